import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import { apiRequest, readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { writeProxyConfig } from "./support/proxy-config.js";
import { RedisServer } from "./support/redis-server.js";
import { type Exit, runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * Every process stops within SHUTDOWN_TIMEOUT_MS whatever state it is in, and a second
 * signal ends it at once. Real `serve`, `worker` and `proxy` processes whose log reader has
 * stopped reading (their stdout pipe full) or gone away (the pipe closed): before issue 21
 * such a process ignored SIGTERM and every signal after it, and never exited.
 */

const SHUTDOWN_TIMEOUT_MS = 4_000;
/** Room for a loaded machine on top of the limit; a process that hangs never makes it. */
const SLACK_MS = 8_000;
const ADA = "ada@example.com";

const root = mkdtempSync(join(tmpdir(), "switchboard-shutdown-"));
const running: SwitchboardProcess[] = [];
const databases: TestDatabase[] = [];
const redisServers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((child) => child.kill()));
  await Promise.all(redisServers.splice(0).map((redis) => redis.stop()));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase("shutdown");
  databases.push(db);
  return db;
}

async function start(
  args: string[],
  env: Record<string, string>,
  ready: "readyz" | "healthz" = "readyz",
): Promise<{ process: SwitchboardProcess; base: string }> {
  const port = await freePort();
  const portArgs = args[0] === "serve" ? [] : ["--port", String(port)];
  const child = new SwitchboardProcess([...args, ...portArgs], {
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    ...env,
    PORT: String(port),
  });
  running.push(child);
  const base = `http://127.0.0.1:${port}`;
  await child.waitFor(`${base}/${ready}`, 120_000);
  return { process: child, base };
}

/**
 * Requests that each make the process write a log line (a 404 is logged at info, a failed
 * model call at warn): megabytes of them, far more than a pipe holds.
 */
async function flood(count: number, request: (i: number) => Promise<Response>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        const response = await request(next++).catch(() => undefined);
        await response?.body?.cancel();
      }
    }),
  );
}

const notFound = (base: string) => (i: number) =>
  fetch(`${base}/no-such-page-${i}-${"x".repeat(200)}`);

/** How the process ended, or "still running" once the limit and the slack have passed. */
async function exitAfter(
  child: SwitchboardProcess,
  signal: NodeJS.Signals,
  limitMs: number,
): Promise<Exit | "still running"> {
  child.signal(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still running">((resolve) => {
    timer = setTimeout(() => resolve("still running"), limitMs + SLACK_MS);
  });
  try {
    return await Promise.race([child.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("a process whose log reader has stopped reading or gone away", {
  timeout: 300_000,
}, () => {
  it("serve stops on SIGTERM with its stdout pipe full", async () => {
    const db = await database();
    const { process: serve, base } = await start(["serve"], { DATABASE_URL: db.url });
    serve.stopReadingStdout();
    await flood(4_000, notFound(base));
    expect(await exitAfter(serve, "SIGTERM", SHUTDOWN_TIMEOUT_MS)).toEqual({
      code: 0,
      signal: null,
    });
  });

  it("serve stops on SIGTERM with its stdout pipe closed, and says nothing on stderr", async () => {
    const db = await database();
    const { process: serve, base } = await start(["serve"], { DATABASE_URL: db.url });
    serve.stopReadingStdout();
    await flood(1_500, notFound(base));
    serve.closeStdout();
    await flood(500, notFound(base));
    expect(await exitAfter(serve, "SIGTERM", SHUTDOWN_TIMEOUT_MS)).toEqual({
      code: 0,
      signal: null,
    });
    // No EPIPE stack trace: the broken pipe is nobody's error.
    expect(serve.stderr).toBe("");
  });

  it("worker stops on SIGTERM with its stdout pipe full", async () => {
    const db = await database();
    const redis = await RedisServer.start();
    redisServers.push(redis);
    const { process: worker, base } = await start(["worker"], {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
    });
    worker.stopReadingStdout();
    await flood(4_000, notFound(base));
    expect(await exitAfter(worker, "SIGTERM", SHUTDOWN_TIMEOUT_MS)).toEqual({
      code: 0,
      signal: null,
    });
  });

  it("proxy stops on SIGTERM with its stdout pipe full", async () => {
    const db = await database();
    const deadUpstream = await freePort();
    const config = writeProxyConfig(
      join(root, `proxy-${randomBytes(3).toString("hex")}.yaml`),
      `http://127.0.0.1:${deadUpstream}`,
      { upstreamKey: "upstream-secret", masterKey: "sk-operator" },
    );
    const { process: proxy, base } = await start(
      ["proxy", "--config", config],
      { DATABASE_URL: db.url },
      "healthz",
    );
    proxy.stopReadingStdout();
    // Each call fails upstream (nothing listens there): a warning with its cause, logged.
    await flood(3_000, () =>
      fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer sk-operator", "content-type": "application/json" },
        body: JSON.stringify({ model: "small", messages: [{ role: "user", content: "ping" }] }),
      }),
    );
    expect(await exitAfter(proxy, "SIGTERM", SHUTDOWN_TIMEOUT_MS)).toEqual({
      code: 0,
      signal: null,
    });
  });
});

describe("stopping while a run is in flight", { timeout: 300_000 }, () => {
  /** A serve on its own database with a run of a slow agent under way (a turn takes half a minute). */
  async function serveWithRunInFlight(env: Record<string, string>) {
    const db = await database();
    const file = join(root, `agent-${randomBytes(3).toString("hex")}.yaml`);
    writeFileSync(
      file,
      `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: very-slow
  title: Very slow
  owner: user:${ADA}
spec:
  runtime:
    type: demo
    delay_ms: 2000
  access:
    run: [user:${ADA}]
`,
    );
    const base = { DATABASE_URL: db.url };
    const applied = await runSwitchboard(["agents", "apply", file], base);
    expect(applied.code, applied.stderr).toBe(0);
    const created = await runSwitchboard(["keys", "create", "--user", ADA], base);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim().split("\n").at(-1) ?? "";
    const served = await start(["serve"], { ...base, ...env });
    const response = await apiRequest(served.base, key, "POST", "/agents/very-slow/runs", {
      input: "take your time",
    });
    const run = await readJson(response);
    expect(response.status, JSON.stringify(run)).toBe(201);
    await eventually(async () => {
      const now = await readJson(await apiRequest(served.base, key, "GET", `/runs/${run.id}`));
      expect(now.status).toBe("running");
    }, 60_000);
    return served;
  }

  it("a second signal exits at once, while the first still waits for the run", async () => {
    const { process: serve } = await serveWithRunInFlight({ SHUTDOWN_TIMEOUT_MS: "120000" });
    serve.signal("SIGTERM");
    await eventually(async () => expect(serve.stdout).toContain("send the signal again"), 30_000);
    // Waiting for the run (it has half a minute to go and two minutes to do it in).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(serve.exit).toBeUndefined();
    expect(await exitAfter(serve, "SIGINT", 0)).toEqual({ code: 130, signal: null });
    expect(serve.stdout).toContain("second signal: exiting now");
  });

  it("stops within SHUTDOWN_TIMEOUT_MS though the run would take longer, naming what it gave up on", async () => {
    const { process: serve } = await serveWithRunInFlight({});
    expect(await exitAfter(serve, "SIGTERM", SHUTDOWN_TIMEOUT_MS)).toEqual({
      code: 0,
      signal: null,
    });
    const gaveUp = serve.stdout
      .split("\n")
      .filter((line) => line.includes("gave up waiting for a step to stop"));
    expect(gaveUp.join("\n")).toContain('"step":"runs engine"');
  });
});
