import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeldAgentDouble } from "../doubles/held-agent.js";
import { chatCompletion } from "../doubles/openai-wire.js";
import { json, type ReceivedRequest, UpstreamDouble } from "../doubles/upstream-double.js";
import { eventually } from "../support/eventually.js";
import { readJson } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { writeProxyConfig } from "../support/proxy-config.js";
import { bookedPerKey, chatThroughProxy, ledgerRows } from "../support/proxy-ledger.js";
import { RunsDeployment } from "../support/runs-deployment.js";

/**
 * A model proxy key handed to an attempt whose worker died does not outlive it, and the
 * model calls made with it are paid for once. Each attempt of a run gets a key of its own
 * (the agent may leak it, or keep it); an attempt that ends revokes its key, but a worker
 * killed mid-run never gets to. When another worker recovers the run, the dead attempt's
 * key stops working at the proxy, and the new attempt's key works. The proxy lives in
 * serve and books its calls about once a second: a call answered just before the worker
 * dies, or still in flight when it dies, is booked once to the run, like the new attempt's. Real processes on PostgreSQL and BullMQ; the model
 * provider is a double of OpenAI's wire API that fails the test on any request it did not
 * expect.
 */

const ADA = "ada@example.com";
const dir = mkdtempSync(join(tmpdir(), "switchboard-dead-key-"));
const utcDay = () => new Date().toISOString().slice(0, 10);

let agent: HeldAgentDouble;
let upstream: UpstreamDouble;
let deployment: RunsDeployment;
let proxyUrl: string;

beforeAll(async () => {
  agent = await HeldAgentDouble.start();
  upstream = await UpstreamDouble.start("openai");
  const proxyPort = await freePort();
  proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const proxyConfig = writeProxyConfig(join(dir, "proxy.yaml"), upstream.url);
  deployment = await RunsDeployment.start({
    agents: agent.manifest("keyed"),
    people: [ADA],
    env: { RUN_LEASE_MS: "1500", UPSTREAM_KEY: "upstream-secret" },
    serveArgs: ["--proxy-config", proxyConfig, "--proxy-port", String(proxyPort)],
    workerEnv: { MODEL_PROXY_URL: proxyUrl },
    workers: 2,
  });
}, 300_000);

afterAll(async () => {
  await deployment?.close();
  expect(agent.unexpected).toEqual([]);
  expect(upstream.unexpected).toEqual([]);
  await agent?.close();
  await upstream?.close();
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

/**
 * The provider answers the next chat completion with this usage (tokens tell the calls
 * apart), once `gate` resolves when given: a call still in flight while the test acts.
 */
function upstreamAnswers(
  usage: { promptTokens: number; completionTokens: number },
  say: string,
  gate?: Promise<void>,
): Promise<ReceivedRequest> {
  const reply = json(200, chatCompletion({ model: "gpt-4o-mini", content: say, ...usage }));
  return upstream.expect("POST /v1/chat/completions", async (ctx) => {
    await gate;
    await reply(ctx);
  });
}

/** The process id of the worker running the run (its id in the run's row names it). */
async function workerPid(runId: string): Promise<number> {
  const client = new pg.Client({ connectionString: deployment.database.url });
  await client.connect();
  try {
    const { rows } = await client.query("select worker_id from runs where id = $1", [runId]);
    return Number(String(rows[0]?.worker_id).split(":").at(-2));
  } finally {
    await client.end();
  }
}

describe("a worker killed mid-run, its attempt's model proxy key in the agent's hands", {
  timeout: 180_000,
}, () => {
  it("revokes that key when the run is recovered; each call is booked once", async () => {
    const startedOn = utcDay();
    const run = await deployment.startRun(ADA, "keyed", "ada-1");
    const first = await eventually(async () => {
      const [turn] = agent.turns;
      expect(turn?.modelProxy?.api_key).toMatch(/^sk-sb-/);
      return turn as NonNullable<typeof turn>;
    }, 60_000);
    const deadKey = first.modelProxy?.api_key as string;
    const pid = await workerPid(run.id);
    const victim = deployment.workers.find((worker) => worker.pid === pid);
    expect(victim, `worker ${pid}`).toBeDefined();

    // The agent calls a model with its key (answered just before its worker is killed, so
    // most likely still in the proxy's booking window), and calls again: that call is still
    // waiting on the provider when the worker dies, and is answered only once another worker
    // has recovered the run (and revoked the key in the database): so it is booked after the
    // worker died, whatever the timing. It was paid for, so it is booked, once.
    const firstCall = upstreamAnswers({ promptTokens: 1000, completionTokens: 100 }, "first");
    const before = await chatThroughProxy(proxyUrl, deadKey, "before the kill");
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body.choices[0].message.content).toBe("first");
    expect((await firstCall).headers.authorization).toBe("Bearer upstream-secret");
    let answerInFlight = () => {};
    const inFlightAnswered = new Promise<void>((resolve) => {
      answerInFlight = resolve;
    });
    const inFlightAsked = upstreamAnswers(
      { promptTokens: 1500, completionTokens: 150 },
      "in flight",
      inFlightAnswered,
    );
    const inFlight = chatThroughProxy(proxyUrl, deadKey, "across the kill");
    await inFlightAsked;
    victim?.signal("SIGKILL");
    await victim?.exited;

    // The other worker takes the run over in a second attempt, with a key of its own; by
    // then the dead attempt's key is revoked.
    const second = await eventually(async () => {
      const turn = agent.turns.find((t) => t.attempt === 2);
      expect(turn?.modelProxy?.api_key).toMatch(/^sk-sb-/);
      return turn as NonNullable<typeof turn>;
    }, 60_000);
    answerInFlight();
    const acrossTheKill = await inFlight;
    expect(acrossTheKill.status, JSON.stringify(acrossTheKill.body)).toBe(200);
    expect(acrossTheKill.body.choices[0].message.content).toBe("in flight");

    const liveKey = second.modelProxy?.api_key as string;
    expect(liveKey).not.toBe(deadKey);
    const secondCall = upstreamAnswers({ promptTokens: 2000, completionTokens: 300 }, "second");
    const after = await chatThroughProxy(proxyUrl, liveKey, "after recovery");
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.choices[0].message.content).toBe("second");
    await secondCall;

    // Proxies drop a revoked key within their 5 s key refresh; then a model call with it is
    // refused before it reaches the provider (the double would record it as unexpected).
    await eventually(async () => expect(await proxyAnswers(deadKey)).toBe(401), 20_000);
    expect((await chatThroughProxy(proxyUrl, deadKey, "after revocation")).status).toBe(401);
    expect(await proxyAnswers(liveKey)).toBe(200);

    agent.held.release("ada-1");
    expect(await deployment.finished(ADA, run.id)).toMatchObject({
      status: "succeeded",
      attempt: 2,
      output: "done ada-1",
    });
    await eventually(async () => expect(await proxyAnswers(liveKey)).toBe(401), 20_000);
    upstream.verify();

    // The ledger: each successful call exactly once, booked to the run, agent, person and
    // model; nothing for the refused call. The proxy adds a key's calls up between two
    // writes (a row says how many it stands for), so the calls and tokens are counted per
    // key: a call lost or booked twice would show in both. Read again after more than one
    // booking window (a second), so that a late or repeated booking would show too.
    const keys = { "dead attempt": deadKey, "live attempt": liveKey };
    const booked = await eventually(async () => {
      const rows = await ledgerRows(deployment.database.url);
      expect(bookedPerKey(rows, keys)).toEqual({
        "dead attempt": { calls: 2, inputTokens: 2500, outputTokens: 250 },
        "live attempt": { calls: 1, inputTokens: 2000, outputTokens: 300 },
      });
      return rows;
    }, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await ledgerRows(deployment.database.url)).toEqual(booked);
    for (const row of booked) {
      expect(row).toMatchObject({
        source: "proxy",
        runId: run.id,
        sessionId: run.session_id,
        agentName: "keyed",
        userEmail: ADA,
        model: "small",
      });
      expect(row.costUsd).toBeGreaterThan(0);
    }
    const total = booked.reduce((sum, row) => sum + row.costUsd, 0);

    // What people are shown: the run's cost is the sum, and so is ada's spend, by model,
    // agent and person, with the run counted once.
    expect((await deployment.run(ADA, run.id)).cost_usd).toBeCloseTo(total, 8);
    for (const [groupBy, key] of [
      ["model", "small"],
      ["agent", "keyed"],
      ["user", ADA],
    ]) {
      const query = `group_by=${groupBy}&from=${startedOn}&to=${utcDay()}`;
      const response = await deployment.request(ADA, "GET", `/spend?${query}`);
      const spend = await readJson(response);
      expect(response.status, JSON.stringify(spend)).toBe(200);
      expect(spend.total_usd).toBeCloseTo(total, 8);
      expect(spend.runs).toBe(1);
      expect(spend.items).toEqual([
        { key, cost_usd: expect.closeTo(total, 8), runs: 1, estimated_usd: 0 },
      ]);
    }
  });
});
