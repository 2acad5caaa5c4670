import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_LABELS } from "../runtimes/index.js";
import { DaytonaApiDouble } from "./doubles/daytona-api.js";
import { chatCompletion } from "./doubles/openai-wire.js";
import { json, UpstreamDouble } from "./doubles/upstream-double.js";
import { eventually } from "./support/eventually.js";
import { type JsonBody, readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { writeProxyConfig } from "./support/proxy-config.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * An agent in a Daytona sandbox, through the REST API: `switchboard serve` (runs in-process,
 * with the bundled model proxy) drives the real `@daytonaio/sdk` against a local double of
 * Daytona's API whose sandboxes are directories where commands really run. The agent is a
 * `command` harness: a Node script that keeps a note in its sandbox and asks a model through
 * the proxy with the key it finds in its environment.
 */

const DAYTONA_KEY = "dtn_e2e-account-key";
const DEPLOYMENT = "e2e-deployment";
const AGENT_SCRIPT = `
const fs = require("fs");
const input = process.argv[1];
fs.writeFileSync("proxy-key.txt", process.env.OPENAI_API_KEY || "none");
(async () => {
  if (input.startsWith("sleep")) {
    console.log("sleeping");
    await new Promise((resolve) => setTimeout(resolve, 30000));
    fs.writeFileSync("woke.txt", "woke");
    return;
  }
  let note = "";
  if (input.startsWith("remember ")) fs.writeFileSync("note.txt", input.slice(9));
  else note = fs.existsSync("note.txt") ? fs.readFileSync("note.txt", "utf8") : "nothing";
  const reply = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", {
    method: "POST",
    headers: { authorization: "Bearer " + process.env.OPENAI_API_KEY, "content-type": "application/json" },
    body: JSON.stringify({ model: "small", messages: [{ role: "user", content: input }] }),
  });
  const body = await reply.json();
  console.log("asked the model");
  console.log(JSON.stringify({ answer: "note: " + (note || "kept") + "; model: " + body.choices[0].message.content }));
})();
`;

const dir = mkdtempSync(join(tmpdir(), "switchboard-daytona-e2e-"));
let database: TestDatabase;
let daytona: DaytonaApiDouble;
let upstream: UpstreamDouble;
let serve: SwitchboardProcess;
let base: string;
let apiKey: string;
let env: Record<string, string>;
let serveArgs: string[];
let db: pg.Client;

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await readJson(response) };
}

/** The model answers the next call through the proxy with `content`. */
function modelAnswers(content: string) {
  return upstream.expect(
    "POST /v1/chat/completions",
    json(
      200,
      chatCompletion({ model: "gpt-4o-mini", content, promptTokens: 1000, completionTokens: 100 }),
    ),
  );
}

async function start(input: string, sessionId?: string): Promise<JsonBody> {
  const started = await api("POST", "/agents/sandboxed/runs", {
    input,
    ...(sessionId ? { session_id: sessionId } : {}),
  });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return started.body;
}

async function finished(id: string, timeoutMs = 60_000): Promise<JsonBody> {
  return eventually(async () => {
    const run = (await api("GET", `/runs/${id}`)).body;
    expect(run.status).toMatch(/succeeded|failed|cancelled/);
    return run;
  }, timeoutMs);
}

async function eventsOf(runId: string): Promise<{ type: string; data: JsonBody }[]> {
  const { rows } = await db.query(
    "select type, data from run_events where run_id = $1 order by seq",
    [runId],
  );
  return rows;
}

async function startServe(extra: Record<string, string> = {}): Promise<void> {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  serve = new SwitchboardProcess(serveArgs, { ...env, ...extra, PORT: String(port) });
  await serve.waitFor(`${base}/readyz`, 90_000);
}

beforeAll(async () => {
  database = await createTestDatabase("runs_daytona");
  daytona = await DaytonaApiDouble.start({ apiKey: DAYTONA_KEY });
  upstream = await UpstreamDouble.start("openai");
  const proxyConfig = writeProxyConfig(join(dir, "proxy.yaml"), upstream.url);
  writeFileSync(
    join(dir, "agent.yaml"),
    [
      "apiVersion: switchboard/v1",
      "kind: Agent",
      "metadata: { name: sandboxed, title: Sandboxed, owner: team:research }",
      "spec:",
      "  runtime:",
      "    type: daytona",
      "    harness: command",
      `    command: ${JSON.stringify(["node", "-e", AGENT_SCRIPT, "{{input}}"])}`,
      "    api_key: { env: DAYTONA_E2E_KEY }",
      `    api_url: ${daytona.url}`,
      "    cpu: 2",
      "    memory_gib: 4",
      "    price_per_vcpu_hour_usd: 36",
      "    price_per_gib_hour_usd: 9",
      "  access: { view: ['user:*'], run: ['user:*'] }",
      "  limits: { max_cost_usd_per_run: 5 }",
    ].join("\n"),
  );
  env = {
    DATABASE_URL: database.url,
    LOG_LEVEL: "info",
    UPSTREAM_KEY: "upstream-secret",
    RUNTIME_EGRESS_ALLOW: "127.0.0.1",
    RUNTIME_ENV_ALLOWLIST: "DAYTONA_E2E_KEY",
    DAYTONA_E2E_KEY: DAYTONA_KEY,
    SANDBOX_DEPLOYMENT_LABEL: DEPLOYMENT,
    SANDBOX_SWEEP_INTERVAL_MS: "1000",
    RUN_LEASE_MS: "3000",
  };
  const applied = await runSwitchboard(["agents", "apply", join(dir, "agent.yaml")], env);
  expect(applied.code, applied.stderr + applied.stdout).toBe(0);
  const created = await runSwitchboard(["keys", "create", "--user", "ada@example.com"], env);
  apiKey = created.stdout.trim().split("\n").at(-1) ?? "";
  const proxyPort = await freePort();
  serveArgs = ["serve", "--proxy-config", proxyConfig, "--proxy-port", String(proxyPort)];
  await startServe();
  db = new pg.Client({ connectionString: database.url });
  await db.connect();
}, 180_000);

afterAll(async () => {
  await db?.end();
  serve?.signal("SIGTERM");
  await serve?.exited;
  expect(daytona.unexpected()).toEqual([]);
  await daytona?.close();
  await upstream?.close();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("an agent in a Daytona sandbox, through the API", { timeout: 150_000 }, () => {
  it("answers two turns in one sandbox, stopped between them, destroyed when the session closes", async () => {
    modelAnswers("blue is noted");
    const first = await finished((await start("remember the colour blue")).id);
    expect(first).toMatchObject({ status: "succeeded" });
    expect(first.output).toBe("note: kept; model: blue is noted");
    const sessionId = first.session_id as string;
    const [sandboxId] = daytona.created.length === 1 ? [...daytona.sandboxes.keys()] : [];
    expect(sandboxId).toBeDefined();
    expect(daytona.created[0]?.labels).toMatchObject({
      [SANDBOX_LABELS.deployment]: DEPLOYMENT,
      [SANDBOX_LABELS.session]: sessionId,
    });
    expect(daytona.sandboxes.get(sandboxId as string)?.state).toBe("stopped");

    modelAnswers("you said blue");
    const second = await finished((await start("what colour did I say?", sessionId)).id);
    expect(second.output).toBe("note: the colour blue; model: you said blue");
    expect(daytona.created).toHaveLength(1);
    expect(daytona.stops).toEqual([sandboxId, sandboxId]);

    // The run's proxy key reached the harness, and nowhere a person or a log sees.
    const key = daytona.fileOf(sandboxId as string, "proxy-key.txt") ?? "";
    expect(key).toMatch(/^sk-/);
    const { rows } = await db.query("select runtime_handle from sessions where id = $1", [
      sessionId,
    ]);
    expect(rows[0]?.runtime_handle).toMatchObject({ vendor: "daytona", sandboxId });
    expect(JSON.stringify(rows[0]?.runtime_handle)).not.toContain(key);
    expect(JSON.stringify(await eventsOf(second.id))).not.toContain(key);
    expect(JSON.stringify(daytona.commands.map((c) => c.command))).not.toContain(key);
    expect(serve.stdout + serve.stderr).not.toContain(key);
    expect(serve.stdout + serve.stderr).not.toContain(DAYTONA_KEY);

    // The run's cost: the sandbox's time (estimated) and its model call through the proxy.
    const ledger = await eventually(async () => {
      const { rows: booked } = await db.query(
        "select source, model, cost_usd, metadata from ledger where run_id = $1 order by source",
        [second.id],
      );
      expect(booked.map((row) => row.source).sort()).toEqual(["proxy", "runtime"]);
      return booked;
    }, 15_000);
    const sandboxTime = ledger.find((row) => row.source === "runtime");
    expect(sandboxTime).toMatchObject({
      model: "daytona-sandbox",
      metadata: { cost_estimate: true },
    });
    expect(Number(sandboxTime.cost_usd)).toBeGreaterThan(0);
    const total = ledger.reduce((sum, row) => sum + Number(row.cost_usd), 0);
    await eventually(async () => {
      expect((await api("GET", `/runs/${second.id}`)).body.cost_usd).toBeCloseTo(total, 8);
    }, 15_000);

    const closed = await api("POST", `/sessions/${sessionId}/close`);
    expect(closed.status).toBe(200);
    expect(daytona.destroyed).toContain(sandboxId);
    expect(daytona.sandboxes.has(sandboxId as string)).toBe(false);
  });

  it("replaces a sandbox Daytona deleted with a new one primed with the conversation, and says so", async () => {
    modelAnswers("ok");
    const first = await finished((await start("remember 42")).id);
    const before = new Set(daytona.sandboxes.keys());
    daytona.expireAll();
    modelAnswers("it was 42");
    const second = await finished((await start("which number?", first.session_id)).id);
    expect(second).toMatchObject({ status: "succeeded" });
    // A new sandbox has no note: the conversation came in the primed input instead.
    expect(second.output).toBe("note: nothing; model: it was 42");
    const restarted = (await eventsOf(second.id)).find(
      (event) => event.type === "runtime.status" && event.data.status === "session_restarted",
    );
    expect(restarted?.data.message).toMatch(/Daytona no longer has sandbox/);
    const last = daytona.commands.at(-1)?.command ?? "";
    expect(last).toContain("User: remember 42");
    expect([...daytona.sandboxes.keys()].some((id) => !before.has(id))).toBe(true);
  });

  it("cancelling kills the agent's process; the next turn runs in the same sandbox", async () => {
    modelAnswers("ready");
    const first = await finished((await start("get ready")).id);
    const sandboxes = daytona.created.length;
    const sleeping = await start("sleep for a while", first.session_id);
    await eventually(async () => {
      const command = daytona.commands.at(-1);
      expect(command?.command).toContain("sleep for a while");
      expect(command?.output.length).toBeGreaterThan(0);
    }, 30_000);
    const child = daytona.commands.at(-1)?.child;
    const cancelled = await api("POST", `/runs/${sleeping.id}/cancel`);
    expect(cancelled.status).toBeLessThan(300);
    expect((await finished(sleeping.id)).status).toBe("cancelled");
    await eventually(async () => expect(daytona.kills()).toBeGreaterThanOrEqual(1));
    await eventually(async () => expect(child?.exitCode ?? child?.signalCode).not.toBeNull());
    modelAnswers("still here");
    const next = await finished((await start("are you there?", first.session_id)).id);
    expect(next).toMatchObject({ status: "succeeded", output: "note: nothing; model: still here" });
    expect(daytona.created).toHaveLength(sandboxes);
  });

  it("sweeps sandboxes of sessions nobody knows, at start-up and on its timer, leaving another deployment's", async () => {
    const unknown = daytona.plant({
      [SANDBOX_LABELS.deployment]: DEPLOYMENT,
      [SANDBOX_LABELS.session]: "00000000-0000-4000-8000-00000000dead",
    });
    const theirs = daytona.plant({
      [SANDBOX_LABELS.deployment]: "someone-else",
      [SANDBOX_LABELS.session]: "00000000-0000-4000-8000-00000000beef",
    });
    await eventually(async () => expect(daytona.destroyed).toContain(unknown), 20_000);
    expect(daytona.sandboxes.has(theirs)).toBe(true);
    // Logged once destroyed: which sandbox, of which session, and why.
    await eventually(async () => {
      const line = serve.stdout.split("\n").find((l) => l.includes(`"sandbox":"${unknown}"`));
      expect(JSON.parse(line ?? "{}")).toMatchObject({
        msg: "destroyed sandbox",
        vendor: "daytona",
        reason: "session unknown",
      });
    });
  });

  it("leaves no sandbox behind when the process is killed mid-turn", async () => {
    modelAnswers("first");
    const first = await finished((await start("remember the plan")).id);
    const sessionId = first.session_id as string;
    const sandboxId = (
      await db.query("select runtime_handle from sessions where id = $1", [sessionId])
    ).rows[0]?.runtime_handle.sandboxId as string;
    daytona.hold();
    const held = await start("what was the plan?", sessionId);
    await eventually(async () =>
      expect(daytona.commands.at(-1)?.command).toContain("what was the plan"),
    );
    // Killed mid-turn: the sandbox is left running, the run unfinished.
    serve.signal("SIGKILL");
    await serve.exited;
    expect(daytona.sandboxes.get(sandboxId)?.state).toBe("started");
    daytona.release();
    // Back up with a short idle limit: the run is recovered and finishes in the same
    // sandbox (stopped after), and once the session idles the sweeper destroys it.
    modelAnswers("the plan stands");
    await startServe({ SANDBOX_IDLE_TIMEOUT_MS: "4000" });
    const recovered = await finished(held.id, 90_000);
    expect(recovered).toMatchObject({
      status: "succeeded",
      output: "note: the plan; model: the plan stands",
    });
    await eventually(async () => expect(daytona.destroyed).toContain(sandboxId), 30_000);
    const ours = [...daytona.sandboxes.values()].filter(
      (sandbox) => sandbox.labels[SANDBOX_LABELS.deployment] === DEPLOYMENT,
    );
    expect(ours).toEqual([]);
  });
});
