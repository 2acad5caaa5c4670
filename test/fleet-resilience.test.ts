import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { chatCompletion } from "./doubles/openai-wire.js";
import { json, UpstreamDouble } from "./doubles/upstream-double.js";
import { eventually } from "./support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase, withAdmin } from "./support/postgres.js";
import { writeProxyConfig } from "./support/proxy-config.js";
import { RedisServer } from "./support/redis-server.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * A dependency restarting stops no process. Real `switchboard serve` and `worker` processes
 * on real PostgreSQL and a private Redis; the database's backends are terminated and Redis
 * is stopped and started again under them, while runs are in flight and requests are
 * served. They stay up, say on /readyz what is down, and carry on once it is back.
 */

const ADA = "ada@example.com";
const BOB = "bob@example.com";
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

const root = mkdtempSync(join(tmpdir(), "switchboard-fleet-"));
const running: SwitchboardProcess[] = [];
const databases: TestDatabase[] = [];
const redisServers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((child) => child.kill()));
  await Promise.all(redisServers.splice(0).map((redis) => redis.stop()));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Ada's slowed-down demo agent (a turn takes a few seconds), owned by her. */
function manifest(viewers: string[]) {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name: "slow-echo", title: "Slow echo", owner: `user:${ADA}` },
    spec: {
      runtime: { type: "demo", delay_ms: 150 },
      access: { view: viewers.map((email) => `user:${email}`), run: [`user:${ADA}`] },
    },
  };
}

/** A database, a private Redis, the agent and keys for Ada and Bob, made as an operator would. */
async function setUp(extra: Record<string, string> = {}) {
  const db = await createTestDatabase("fleet");
  databases.push(db);
  const redis = await RedisServer.start();
  redisServers.push(redis);
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    RUN_LEASE_MS: "3000",
    RUN_RETRY_BACKOFF_MS: "200",
    ...extra,
  };
  const file = join(root, `agent-${randomBytes(3).toString("hex")}.json`);
  writeFileSync(file, JSON.stringify(manifest([ADA])));
  const applied = await runSwitchboard(["agents", "apply", file], env);
  expect(applied.code, applied.stderr).toBe(0);
  const keys: Record<string, string> = {};
  for (const email of [ADA, BOB]) {
    const created = await runSwitchboard(["keys", "create", "--user", email], env);
    expect(created.code, created.stderr).toBe(0);
    keys[email] = created.stdout.trim().split("\n").at(-1) ?? "";
  }
  return { db, redis, env, ada: keys[ADA] ?? "", bob: keys[BOB] ?? "" };
}

interface Started {
  process: SwitchboardProcess;
  base: string;
}

async function start(
  command: "serve" | "worker" | "proxy",
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<Started> {
  const port = await freePort();
  const args = command === "serve" ? ["serve"] : [command, "--port", String(port)];
  const child = new SwitchboardProcess([...args, ...extraArgs], { ...env, PORT: String(port) });
  running.push(child);
  const base = `http://127.0.0.1:${port}`;
  await child.waitFor(`${base}/${command === "proxy" ? "healthz" : "readyz"}`, 120_000);
  return { process: child, base };
}

async function readiness(base: string): Promise<{ status: number; body: JsonBody }> {
  const response = await fetch(`${base}/readyz`);
  return { status: response.status, body: await readJson(response) };
}

/** Waits for /readyz to answer 503 naming `check` as down. */
async function notReady(part: Started, check: string): Promise<void> {
  await eventually(async () => {
    const { status, body } = await readiness(part.base);
    expect(status).toBe(503);
    expect(body.checks[check]).toMatch(/^down/);
    expect(body.error.message).toContain(check);
  }, 30_000);
}

async function startRun(base: string, key: string, input: string): Promise<string> {
  const response = await apiRequest(base, key, "POST", "/agents/slow-echo/runs", { input });
  const body = await readJson(response);
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body.id as string;
}

async function finishedRun(base: string, key: string, id: string): Promise<JsonBody> {
  return eventually(async () => {
    const run = await readJson(await apiRequest(base, key, "GET", `/runs/${id}`));
    expect(FINISHED.has(run.status), `${id} is ${run.status}`).toBe(true);
    return run;
  }, 150_000);
}

/** A process is still the one started: it has not exited, whatever happened under it. */
function expectUp(...processes: Started[]) {
  for (const { process } of processes) {
    expect(process.exit, `exited:\n${process.stderr}\n${process.stdout.slice(-4000)}`).toBe(
      undefined,
    );
  }
}

/** Everything a process printed is JSON log lines: nothing on stderr outside the log. */
function expectOnlyJsonOutput(...processes: Started[]) {
  for (const { process } of processes) {
    expect(process.stderr, "stderr").toBe("");
    for (const line of process.stdout.split("\n").filter(Boolean)) {
      expect(() => JSON.parse(line), line).not.toThrow();
    }
  }
}

/** Requests served all along: the catalog, through each web process, until stopped. */
function keepServing(bases: string[], key: string) {
  let stop = false;
  const statuses: number[] = [];
  const done = (async () => {
    while (!stop) {
      for (const base of bases) {
        const response = await apiRequest(base, key, "GET", "/agents").catch(() => undefined);
        await response?.body?.cancel();
        if (response) statuses.push(response.status);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    statuses,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** Terminates every connection to the test's own database (other tests share the server). */
async function terminateBackends(database: string): Promise<number> {
  return withAdmin(async (admin) => {
    const { rows } = await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
      [database],
    );
    return rows.length;
  });
}

/** The test's database refusing new connections, as PostgreSQL does while it restarts. */
async function allowConnections(database: string, allowed: boolean): Promise<void> {
  await withAdmin((admin) =>
    admin.query(`alter database "${database}" with allow_connections ${allowed}`),
  );
}

/**
 * PostgreSQL going away under the processes: every connection to the test's database cut
 * and new ones refused while `during` runs and a few seconds more, then a few more cuts
 * once it is back, so connections being remade are cut too.
 */
async function outage(database: string, during: () => Promise<void>): Promise<void> {
  await allowConnections(database, false);
  try {
    expect(await terminateBackends(database)).toBeGreaterThan(0);
    await during();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  } finally {
    await allowConnections(database, true);
  }
  for (let i = 0; i < 3; i++) {
    await terminateBackends(database);
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

describe("PostgreSQL's backends terminated under serve and worker", { timeout: 400_000 }, () => {
  it("stops no process; runs finish, and access changes reach every process again", async () => {
    const { db, env, ada, bob } = await setUp();
    const [web, other, worker] = await Promise.all([
      start("serve", env),
      start("serve", env),
      start("worker", env),
    ]);
    expect(
      (await apiRequest(other.base, bob, "GET", "/agents/slow-echo")).status,
      "Bob may not see the agent yet",
    ).toBe(404);

    const load = keepServing([web.base, other.base], ada);
    const before = await startRun(web.base, ada, "before the blip");
    await eventually(async () => {
      const run = await readJson(await apiRequest(web.base, ada, "GET", `/runs/${before}`));
      expect(run.status).toBe("running");
    }, 60_000);

    await outage(db.name, () => notReady(web, "database"));
    expectUp(web, other, worker);

    for (const part of [web, other, worker]) {
      await eventually(async () => expect((await readiness(part.base)).status).toBe(200), 60_000);
    }
    expect((await finishedRun(web.base, ada, before)).status).toBe("succeeded");
    const after = await startRun(other.base, ada, "after the blip");
    expect((await finishedRun(other.base, ada, after)).status).toBe("succeeded");

    // Ada shares the agent with Bob through one process; the other hears of it.
    const shared = await apiRequest(
      web.base,
      ada,
      "PUT",
      "/agents/slow-echo",
      manifest([ADA, BOB]),
    );
    expect(shared.status, await shared.text()).toBe(200);
    await eventually(async () => {
      expect((await apiRequest(other.base, bob, "GET", "/agents/slow-echo")).status).toBe(200);
    }, 30_000);

    await load.stop();
    // Served all along: answers, or while the database was away, a 503 that says so.
    expect(load.statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(load.statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expectUp(web, other, worker);
    expectOnlyJsonOutput(web, other, worker);
  });
});

describe("Redis stopped and started again under serve and worker", { timeout: 400_000 }, () => {
  it("stops no process, says redis is down meanwhile, and takes the queued runs once it is back", async () => {
    const { redis, env, ada } = await setUp();
    const [web, worker] = await Promise.all([start("serve", env), start("worker", env)]);
    const load = keepServing([web.base], ada);
    const inFlight = await startRun(web.base, ada, "while redis goes away");
    await eventually(async () => {
      const run = await readJson(await apiRequest(web.base, ada, "GET", `/runs/${inFlight}`));
      expect(run.status).toBe("running");
    }, 60_000);

    await redis.stop();
    for (const part of [web, worker]) await notReady(part, "redis");
    // Asked for while Redis is away: stored, and queued once it is back.
    const queued = await startRun(web.base, ada, "while redis is away");
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expectUp(web, worker);

    await redis.startProcess();
    for (const part of [web, worker]) {
      await eventually(async () => expect((await readiness(part.base)).status).toBe(200), 60_000);
    }
    for (const id of [inFlight, queued]) {
      expect((await finishedRun(web.base, ada, id)).status, id).toBe("succeeded");
    }
    const after = await startRun(web.base, ada, "after redis is back");
    expect((await finishedRun(web.base, ada, after)).status).toBe("succeeded");

    await load.stop();
    expectUp(web, worker);
    expectOnlyJsonOutput(web, worker);
  });
});

describe("PostgreSQL going away under the model proxy", { timeout: 400_000 }, () => {
  it("stops no process, keeps answering calls, and books every call's spend once it is back", async () => {
    const upstream = await UpstreamDouble.start("openai");
    try {
      const { db, env } = await setUp();
      const config = writeProxyConfig(
        join(root, `proxy-${randomBytes(3).toString("hex")}.yaml`),
        upstream.url,
        { upstreamKey: "upstream-secret", masterKey: "sk-operator" },
      );
      const proxy = await start("proxy", env, ["--config", config]);
      const client = new OpenAI({ baseURL: `${proxy.base}/v1`, apiKey: "sk-operator" });
      let calls = 0;
      const call = async () => {
        upstream.expect(
          "POST /v1/chat/completions",
          json(200, chatCompletion({ model: "gpt-4o-mini", content: "pong" })),
        );
        const answer = await client.chat.completions.create({
          model: "small",
          messages: [{ role: "user", content: "ping" }],
        });
        expect(answer.choices[0]?.message.content).toBe("pong");
        calls += 1;
      };

      for (let i = 0; i < 5; i++) await call();
      await outage(db.name, async () => {
        for (let i = 0; i < 10; i++) await call();
      });
      for (let i = 0; i < 5; i++) await call();
      expectUp(proxy);

      // Every call's tokens reach the ledger, once (rows add calls up; see SpendRollup).
      await eventually(async () => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        const { rows } = await client
          .query(
            "select coalesce(sum((metadata->>'calls')::int), 0)::int as calls, coalesce(sum(input_tokens), 0)::int as input from ledger where source = 'proxy'",
          )
          .finally(() => client.end());
        const [row] = rows;
        expect(row).toEqual({ calls, input: calls * 10 });
      }, 60_000);
      expect(calls).toBe(20);
      expectUp(proxy);
      expectOnlyJsonOutput(proxy);
      upstream.verify();
    } finally {
      await upstream.close();
    }
  });
});
