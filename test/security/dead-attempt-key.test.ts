import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeldAgentDouble } from "../doubles/held-agent.js";
import { eventually } from "../support/eventually.js";
import { freePort } from "../support/ports.js";
import { RunsDeployment } from "../support/runs-deployment.js";

/**
 * A model proxy key handed to an attempt whose worker died does not outlive it. Each
 * attempt of a run gets a key of its own (the agent may leak it, or keep it); an attempt
 * that ends revokes its key, but a worker killed mid-run never gets to. When another worker
 * recovers the run, the dead attempt's key stops working at the proxy, and the new
 * attempt's key works. Real processes on PostgreSQL and BullMQ, the bundled proxy in serve.
 */

const ADA = "ada@example.com";
const dir = mkdtempSync(join(tmpdir(), "switchboard-dead-key-"));

let agent: HeldAgentDouble;
let deployment: RunsDeployment;
let proxyUrl: string;

beforeAll(async () => {
  agent = await HeldAgentDouble.start();
  const proxyPort = await freePort();
  proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const proxyConfig = join(dir, "proxy.yaml");
  // The test only asks the proxy who a key is (GET /v1/models): no model is ever called.
  writeFileSync(
    proxyConfig,
    [
      "model_list:",
      "  - model_name: small",
      "    litellm_params:",
      "      model: openai/gpt-4o-mini",
      "      api_base: http://127.0.0.1:9/v1",
      "      api_key: os.environ/UPSTREAM_KEY",
    ].join("\n"),
  );
  deployment = await RunsDeployment.start({
    agents: agent.manifest("keyed"),
    people: [ADA],
    env: { RUN_LEASE_MS: "1500", UPSTREAM_KEY: "never-used" },
    serveArgs: ["--proxy-config", proxyConfig, "--proxy-port", String(proxyPort)],
    workerEnv: { MODEL_PROXY_URL: proxyUrl },
    workers: 2,
  });
}, 300_000);

afterAll(async () => {
  await deployment?.close();
  expect(agent.unexpected).toEqual([]);
  await agent?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What the proxy answers a key: 200 while it is good, 401 once revoked. */
async function proxyAnswers(key: string): Promise<number> {
  const response = await fetch(`${proxyUrl}/v1/models`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await response.body?.cancel();
  return response.status;
}

describe("a worker killed mid-run, its attempt's model proxy key in the agent's hands", {
  timeout: 180_000,
}, () => {
  it("revokes that key when the run is recovered; the new attempt's key works", async () => {
    const run = await deployment.startRun(ADA, "keyed", "ada-1");
    const first = await eventually(async () => {
      const [turn] = agent.turns;
      expect(turn?.modelProxy?.api_key).toMatch(/^sk-sb-/);
      return turn as NonNullable<typeof turn>;
    }, 60_000);
    const deadKey = first.modelProxy?.api_key as string;
    expect(await proxyAnswers(deadKey)).toBe(200);

    // Kill the worker running it (its id in the run's row names its pid).
    const client = new pg.Client({ connectionString: deployment.database.url });
    await client.connect();
    let workerId: string;
    try {
      const { rows } = await client.query("select worker_id from runs where id = $1", [run.id]);
      workerId = rows[0]?.worker_id;
    } finally {
      await client.end();
    }
    const pid = Number(workerId.split(":").at(-2));
    const victim = deployment.workers.find((worker) => worker.pid === pid);
    expect(victim, `worker ${workerId}`).toBeDefined();
    victim?.signal("SIGKILL");
    await victim?.exited;

    // The other worker takes the run over in a second attempt, with a key of its own.
    const second = await eventually(async () => {
      const turn = agent.turns.find((t) => t.attempt === 2);
      expect(turn?.modelProxy?.api_key).toMatch(/^sk-sb-/);
      return turn as NonNullable<typeof turn>;
    }, 60_000);
    const liveKey = second.modelProxy?.api_key as string;
    expect(liveKey).not.toBe(deadKey);
    // Proxies drop a revoked key within their 5 s key refresh.
    await eventually(async () => expect(await proxyAnswers(deadKey)).toBe(401), 20_000);
    expect(await proxyAnswers(liveKey)).toBe(200);

    agent.held.release("ada-1");
    expect(await deployment.finished(ADA, run.id)).toMatchObject({
      status: "succeeded",
      attempt: 2,
      output: "done ada-1",
    });
    await eventually(async () => expect(await proxyAnswers(liveKey)).toBe(401), 20_000);
  });
});
