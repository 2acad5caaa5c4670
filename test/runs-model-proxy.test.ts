import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoopbackServer, readBody, startLoopbackServer } from "./doubles/loopback-server.js";
import { chatCompletion } from "./doubles/openai-wire.js";
import { json, UpstreamDouble } from "./doubles/upstream-double.js";
import { eventually } from "./support/eventually.js";
import { type JsonBody, readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { writeProxyConfig } from "./support/proxy-config.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * An agent's own model calls, through the bundled proxy: `switchboard serve --proxy-config`
 * hands each run a proxy key (in the HTTP runtime's `model_proxy`), the agent calls a model
 * with it through the official OpenAI client, the spend lands in the ledger attributed to
 * the run, and the key stops working when the run ends.
 */

const dir = mkdtempSync(join(tmpdir(), "switchboard-runs-proxy-"));
let database: TestDatabase;
let upstream: UpstreamDouble;
let agent: LoopbackServer;
let serve: SwitchboardProcess;
let base: string;
let apiKey: string;
const keysSeen: { base_url: string; api_key: string }[] = [];

/** A home-grown agent on the HTTP contract that asks a model through the proxy it was given. */
async function startAgent(): Promise<LoopbackServer> {
  return startLoopbackServer((req, res) => {
    void (async () => {
      const turn = JSON.parse(await readBody(req)) as JsonBody;
      keysSeen.push(turn.model_proxy);
      const client = new OpenAI({
        baseURL: `${turn.model_proxy.base_url}/v1`,
        apiKey: turn.model_proxy.api_key,
        maxRetries: 0,
      });
      const completion = await client.chat.completions.create({
        model: "small",
        messages: [{ role: "user", content: turn.input }],
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ output: `The model said: ${completion.choices[0]?.message.content}` }),
      );
    })().catch((error) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: String(error) }));
    });
  });
}

beforeAll(async () => {
  database = await createTestDatabase("runs_proxy");
  upstream = await UpstreamDouble.start("openai");
  agent = await startAgent();
  const proxyConfig = writeProxyConfig(join(dir, "proxy.yaml"), upstream.url);
  writeFileSync(
    join(dir, "agent.yaml"),
    [
      "apiVersion: switchboard/v1",
      "kind: Agent",
      "metadata: { name: researcher, title: Researcher, owner: team:research }",
      "spec:",
      `  runtime: { type: http, url: "${agent.url}/turn" }`,
      "  access: { view: ['user:*'], run: ['user:*'] }",
      "  limits: { max_cost_usd_per_run: 0.5 }",
    ].join("\n"),
  );
  // The agent runs on loopback, which a Switchboard on PostgreSQL must be told it may reach.
  const env = {
    DATABASE_URL: database.url,
    LOG_LEVEL: "warn",
    UPSTREAM_KEY: "upstream-secret",
    RUNTIME_EGRESS_ALLOW: "127.0.0.1",
  };
  expect((await runSwitchboard(["agents", "apply", join(dir, "agent.yaml")], env)).code).toBe(0);
  const created = await runSwitchboard(["keys", "create", "--user", "ada@example.com"], env);
  apiKey = created.stdout.trim().split("\n").at(-1) ?? "";
  const [port, proxyPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  serve = new SwitchboardProcess(
    ["serve", "--proxy-config", proxyConfig, "--proxy-port", String(proxyPort)],
    {
      ...env,
      PORT: String(port),
    },
  );
  await serve.waitFor(`${base}/readyz`, 90_000);
}, 180_000);

afterAll(async () => {
  serve?.signal("SIGTERM");
  await serve?.exited;
  await agent?.close();
  expect(upstream.unexpected).toEqual([]);
  await upstream?.close();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("an agent's model calls through the proxy", { timeout: 120_000 }, () => {
  it("books the spend to the run, and the run's key dies with the run", async () => {
    const answered = upstream.expect(
      "POST /v1/chat/completions",
      json(
        200,
        chatCompletion({
          model: "gpt-4o-mini",
          content: "forty-two",
          promptTokens: 1200,
          completionTokens: 300,
        }),
      ),
    );
    const started = await fetch(`${base}/api/v1/agents/researcher/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ input: "What is the answer?" }),
    });
    const run = await readJson(started);
    expect(started.status).toBe(201);
    const done = await eventually(async () => {
      const body = await readJson(
        await fetch(`${base}/api/v1/runs/${run.id}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        }),
      );
      expect(body.status).toMatch(/succeeded|failed/);
      return body;
    }, 30_000);
    expect(done).toMatchObject({ status: "succeeded", output: "The model said: forty-two" });
    expect((await answered).headers.authorization).toBe("Bearer upstream-secret");

    const [key] = keysSeen;
    expect(key?.api_key).toMatch(/^sk-/);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const ledger = await eventually(async () => {
        const { rows } = await client.query(
          "select * from ledger where source = 'proxy' and run_id = $1",
          [run.id],
        );
        expect(rows).toHaveLength(1);
        return rows[0];
      }, 15_000);
      expect(ledger).toMatchObject({
        session_id: run.session_id,
        model: "small",
      });
      expect(Number(ledger.input_tokens)).toBe(1200);
      expect(Number(ledger.cost_usd)).toBeGreaterThan(0);
      const { rows: users } = await client.query("select email from users where id = $1", [
        ledger.user_id,
      ]);
      expect(users[0]?.email).toBe("ada@example.com");
      // The run's one figure is everything booked to it, the proxy spend that lands after
      // the run closed included.
      await eventually(async () => {
        const shown = await readJson(
          await fetch(`${base}/api/v1/runs/${run.id}`, {
            headers: { authorization: `Bearer ${apiKey}` },
          }),
        );
        expect(shown.cost_usd).toBeCloseTo(Number(ledger.cost_usd), 8);
      }, 15_000);
      const { rows: keys } = await client.query(
        "select budget_usd, revoked_at from api_keys where run_id = $1",
        [run.id],
      );
      expect(Number(keys[0]?.budget_usd)).toBe(0.5);
      expect(keys[0]?.revoked_at).not.toBeNull();
    } finally {
      await client.end();
    }

    // Kept after the run, the key is refused once proxies refresh their key cache (5 s).
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const late = new OpenAI({
      baseURL: `${key?.base_url}/v1`,
      apiKey: key?.api_key ?? "",
      maxRetries: 0,
    });
    await expect(
      late.chat.completions.create({
        model: "small",
        messages: [{ role: "user", content: "again" }],
      }),
    ).rejects.toMatchObject({ status: 401 });
  });
});
