/**
 * How long until service returns after each of issue 21's faults, with real processes (the
 * same deployments as test/faults.test.ts, which asserts what a person sees and that nothing
 * is lost; this only measures):
 *   npx tsx bench/faults/run.ts [--only postgres-fast,postgres-crash,redis,openfga,serve-kill,shutdown]
 *
 * For each fault: how long until /readyz says which dependency is down (detected), from the
 * dependency answering again to every process's /readyz answering 200 (ready), to a new run
 * accepted and finished (a run), and to every run accepted before the fault finished (backlog).
 */
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { eventually } from "../../test/support/eventually.js";
import { FaultDeployment, type Part } from "../../test/support/fault-deployment.js";
import { findOpenFgaBinary, OpenFgaServer } from "../../test/support/openfga-server.js";
import { freePort } from "../../test/support/ports.js";
import { createTestDatabase } from "../../test/support/postgres.js";
import { PrivatePostgres } from "../../test/support/private-postgres.js";
import { RedisServer } from "../../test/support/redis-server.js";
import { SwitchboardProcess } from "../../test/support/switchboard-process.js";

const only = process.argv.includes("--only")
  ? new Set((process.argv[process.argv.indexOf("--only") + 1] ?? "").split(","))
  : undefined;
const wanted = (name: string) => !only || only.has(name);

interface Row {
  fault: string;
  detected: number | string;
  ready: number | string;
  run: number | string;
  backlog: number | string;
  note: string;
}
const rows: Row[] = [];
/** Each figure as it comes, too: a long run cut short still says what it measured. */
const record = (row: Row) => {
  rows.push(row);
  console.log(JSON.stringify(row));
};

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = Date.now();
  const result = await work();
  return [Date.now() - started, result];
}

/** After the dependency is back: every part ready, a new run through, the backlog done. */
async function recovery(deployment: FaultDeployment, parts: Part[], backlog: string[]) {
  const back = Date.now();
  await Promise.all(parts.map((part) => deployment.ready(part)));
  const ready = Date.now() - back;
  const web = parts.find((part) => part.kind === "serve") as Part;
  const id = await eventually(() => deployment.startRun(web, "are you back?"), 120_000);
  await deployment.finished(web, [id]);
  const run = Date.now() - back;
  await deployment.finished(web, backlog);
  const all = Date.now() - back;
  const records = await deployment.records([...backlog, id]);
  const lost = records.filter(
    (record) => record.status !== "succeeded" || record.closingEvents !== 1,
  ).length;
  return { ready, run, backlog: all, lost };
}

/**
 * The fault both queue-backed dependencies get: six runs accepted (one running, the rest
 * queued), the dependency stopped until /readyz names it, down 2 s, started again; then
 * how long until service returns, and whether every run ended once.
 */
async function backlogThroughFault(
  deployment: FaultDeployment,
  fault: { name: string; dependency: string; stop(): Promise<void>; start(): Promise<void> },
): Promise<void> {
  const parts = [await deployment.startPart("serve"), await deployment.startPart("worker")];
  const web = parts[0] as Part;
  const backlog = [];
  for (let i = 0; i < 6; i++) backlog.push(await deployment.startRun(web, `before ${i}`));
  await deployment.waitRunning(web, backlog[0] as string);
  const [detected] = await timed(async () => {
    await fault.stop();
    await deployment.notReady(web, fault.dependency);
  });
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // down a while
  await fault.start();
  const r = await recovery(deployment, parts, backlog);
  record({
    fault: fault.name,
    detected,
    ...r,
    note: `${r.lost} of ${backlog.length + 1} runs not ended once`,
  });
}

async function postgresRestart(mode: "fast" | "crash"): Promise<void> {
  const postgres = await PrivatePostgres.start();
  const redis = await RedisServer.start();
  const deployment = await FaultDeployment.start({
    postgres,
    env: { REDIS_URL: redis.url, RUN_CONCURRENCY: "2" },
  });
  try {
    await backlogThroughFault(deployment, {
      name: `PostgreSQL ${mode === "fast" ? "restarted (fast shutdown)" : "killed -9, restarted"}`,
      dependency: "database",
      stop: () => postgres.stop(mode),
      start: () => postgres.startProcess(),
    });
  } finally {
    await deployment.close();
    await redis.stop();
    await postgres.destroy();
  }
}

async function redisRestart(): Promise<void> {
  const redis = await RedisServer.start();
  const deployment = await FaultDeployment.start({
    postgres: "shared",
    env: { REDIS_URL: redis.url, RUN_CONCURRENCY: "1" },
  });
  try {
    await backlogThroughFault(deployment, {
      name: "Redis killed, restarted empty",
      dependency: "redis",
      stop: () => redis.stop(),
      start: () => redis.startProcess(),
    });
  } finally {
    await deployment.close();
    await redis.stop();
  }
}

async function openFgaRestart(): Promise<void> {
  const binary = findOpenFgaBinary();
  if (!binary.path) {
    record({
      fault: "OpenFGA",
      detected: "-",
      ready: "-",
      run: "-",
      backlog: "-",
      note: binary.missing ?? "",
    });
    return;
  }
  const store = await createTestDatabase("bench_fga");
  const server = await OpenFgaServer.start(binary.path, { postgresUrl: store.url });
  const deployment = await FaultDeployment.start({
    postgres: "shared",
    env: { OPENFGA_API_URL: server.url },
  });
  try {
    const web = await deployment.startPart("serve");
    const [detected] = await timed(async () => {
      await server.stop();
      await deployment.notReady(web, "openfga");
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await server.restart();
    const r = await recovery(deployment, [web], []);
    record({ fault: "OpenFGA server stopped, started", detected, ...r, backlog: "-", note: "" });
  } finally {
    await deployment.close();
    await server.stop();
    await store.drop();
  }
}

async function serveKill(): Promise<void> {
  const redis = await RedisServer.start();
  const deployment = await FaultDeployment.start({
    postgres: "shared",
    env: { REDIS_URL: redis.url },
  });
  try {
    const first = await deployment.startPart("serve");
    const second = await deployment.startPart("serve");
    await deployment.startPart("worker");
    const id = await deployment.startRun(first, "stream this");
    await deployment.waitRunning(first, id);
    first.process.signal("SIGKILL");
    const killed = Date.now();
    // The client's reconnect, at once, to the other serve: time to its first event.
    const response = await fetch(`${second.base}/api/v1/runs/${id}/events`, {
      headers: { authorization: `Bearer ${deployment.apiKey}`, accept: "text/event-stream" },
    });
    const reader = response.body?.getReader();
    await reader?.read();
    const firstEvent = Date.now() - killed;
    await reader?.cancel();
    await deployment.finished(second, [id]);
    const done = Date.now() - killed;
    const [runRecord] = await deployment.records([id]);
    record({
      fault: "serve killed -9 mid-stream (2 serves)",
      detected: "-",
      ready: firstEvent,
      run: "-",
      backlog: done,
      note: `stream resumed on the other serve; run ${runRecord?.status}, ${runRecord?.closingEvents} closing event`,
    });
  } finally {
    await deployment.close();
    await redis.stop();
  }
}

/** SIGTERM to exit for a serve whose log reader stopped reading (the hang). */
async function shutdown(): Promise<void> {
  const db = await createTestDatabase("bench_shutdown");
  try {
    const port = await freePort();
    const serve = new SwitchboardProcess(["serve"], {
      DATABASE_URL: db.url,
      PORT: String(port),
      SHUTDOWN_TIMEOUT_MS: "10000",
    });
    const base = `http://127.0.0.1:${port}`;
    await serve.waitFor(`${base}/readyz`, 120_000);
    serve.stopReadingStdout();
    for (let i = 0; i < 2_000; i++) await (await fetch(`${base}/nope-${i}`)).text();
    const [ms, exit] = await timed(async () => {
      serve.signal("SIGTERM");
      return serve.exited;
    });
    record({
      fault: "SIGTERM, stdout pipe full",
      detected: "-",
      ready: ms,
      run: "-",
      backlog: "-",
      note: `exit ${JSON.stringify(exit)} (limit 10000 ms)`,
    });
  } finally {
    await db.drop();
  }
}

const load = loadavg()
  .map((value) => value.toFixed(1))
  .join(", ");
if (wanted("postgres-fast")) await postgresRestart("fast");
if (wanted("postgres-crash")) await postgresRestart("crash");
if (wanted("redis")) await redisRestart();
if (wanted("openfga")) await openFgaRestart();
if (wanted("serve-kill")) await serveKill();
if (wanted("shutdown")) await shutdown();

console.log(
  `\nload average at start: ${load}; at end: ${loadavg()
    .map((v) => v.toFixed(1))
    .join(", ")}`,
);
console.log(`cores: ${execFileSync("nproc", { encoding: "utf8" }).trim()}\n`);
console.log(
  "| fault | detected (ms) | all /readyz 200 (ms) | new run done (ms) | backlog done (ms) | note |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const row of rows) {
  console.log(
    `| ${row.fault} | ${row.detected} | ${row.ready} | ${row.run} | ${row.backlog} | ${row.note} |`,
  );
}
process.exit(0);
