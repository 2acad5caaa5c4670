/**
 * The runs engine, measured with real processes:
 *
 * 1. Dispatch overhead: from the API request (POST /api/v1/agents/{name}/runs) to the agent
 *    receiving the turn (a local HTTP-runtime agent notes the request's arrival), one run at
 *    a time, each in a new session; with BullMQ (serve + 1 worker, PostgreSQL, Redis) and
 *    with the in-process queue (serve on PGlite; serve on PostgreSQL without Redis).
 * 2. Soak: 500 runs over 50 sessions with BullMQ and 2 workers; one worker is killed (-9)
 *    midway and started again. Checks every run finished exactly once, in order within its
 *    session, with its timeline and ledger whole.
 *
 *   npx tsx bench/runs/run.ts [--quick] [--only dispatch|soak] [--serves N]
 *
 * `--serves 2`: the soak's runs are asked through two `serve` processes behind a
 * round-robin balancer (test/support/round-robin.ts), as a fleet would be.
 */
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { BenchAgent } from "./agent.js";
import { Deployment, type Mode } from "./deployment.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

const DISPATCH_WARMUP = quick ? 10 : 30;
const DISPATCH_SAMPLES = quick ? 100 : 300;
const SOAK_SESSIONS = quick ? 20 : 50;
const SOAK_TURNS = 10;
/** `serve` processes behind a round-robin balancer in the soak. */
const SERVES = args.includes("--serves") ? Number(args[args.indexOf("--serves") + 1]) : 1;
const SOAK_AGENT_DELAY_MS = 100;
const SOAK_LEASE_MS = 3000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
const ms = (value: number) => value.toFixed(1);

// ---------------------------------------------------------------------------------------
// 1. Dispatch overhead

interface DispatchFigures {
  mode: Mode;
  samples: number;
  /** POST answered (201). */
  answered: number[];
  /** The agent received the turn. */
  dispatched: number[];
  /** Stages by the database's clock (ms resolution): request to the run's row… */
  toCreated: number[];
  /** …the row to its attempt starting on a worker… */
  toStarted: number[];
  /** …and the attempt starting to the agent receiving the turn. */
  toAgent: number[];
  /** A plain authenticated read (GET /runs/{id}): the HTTP, key and database floor. */
  read: number[];
}

/** Wall-clock milliseconds with sub-millisecond precision (the database stamps wall time). */
const wallNow = () => performance.timeOrigin + performance.now();

async function measureDispatch(mode: Mode): Promise<DispatchFigures> {
  const agent = await BenchAgent.start();
  const deployment = await Deployment.create(mode, agent.url);
  const figures: DispatchFigures = {
    mode,
    samples: DISPATCH_SAMPLES,
    answered: [],
    dispatched: [],
    toCreated: [],
    toStarted: [],
    toAgent: [],
    read: [],
  };
  try {
    for (let i = 0; i < DISPATCH_WARMUP + DISPATCH_SAMPLES; i++) {
      const startedWall = wallNow();
      const started = performance.now();
      const run = await deployment.startRun(`dispatch ${i}`);
      const answeredAt = performance.now();
      const arrival = await agent.waitFor(run.id, 60_000);
      // The next run starts once this one has closed, so each is measured on a quiet system.
      let detail = await deployment.getRun(run.id);
      while (detail.status !== "succeeded") {
        await sleep(2);
        detail = await deployment.getRun(run.id);
      }
      const readStarted = performance.now();
      await deployment.getRun(run.id);
      const read = performance.now() - readStarted;
      if (i < DISPATCH_WARMUP) continue;
      const created = Date.parse(detail.created_at);
      const attemptStarted = Date.parse(detail.started_at ?? "");
      const arrivedWall = performance.timeOrigin + arrival.at;
      figures.answered.push(answeredAt - started);
      figures.dispatched.push(arrival.at - started);
      figures.toCreated.push(created - startedWall);
      figures.toStarted.push(attemptStarted - created);
      figures.toAgent.push(arrivedWall - attemptStarted);
      figures.read.push(read);
    }
  } finally {
    await deployment.close();
    await agent.close();
  }
  return figures;
}

const MODE_LABEL: Record<Mode, string> = {
  bullmq: "BullMQ: serve + 1 worker, PostgreSQL, Redis",
  "in-process-pglite": "in-process: serve on PGlite",
  "in-process-postgres": "in-process: serve on PostgreSQL, no Redis",
};

function printDispatch(figures: DispatchFigures[]): void {
  const [load1] = loadavg();
  console.log(
    `\n## Dispatch overhead: API request to the agent receiving the turn (ms, one run at a time; load average ${load1?.toFixed(2)})\n`,
  );
  console.log(
    "| deployment | runs | agent received p50 | agent received p99 | mean | max | API answered p50 | API answered p99 |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const f of figures) {
    const mean = f.dispatched.reduce((sum, v) => sum + v, 0) / f.dispatched.length;
    console.log(
      `| ${MODE_LABEL[f.mode]} | ${f.samples} | ${ms(percentile(f.dispatched, 50))} | ${ms(percentile(f.dispatched, 99))} | ${ms(mean)} | ${ms(Math.max(...f.dispatched))} | ${ms(percentile(f.answered, 50))} | ${ms(percentile(f.answered, 99))} |`,
    );
  }
  console.log(
    "\nWhere the time goes (p50, ms; the run's created_at and started_at have ms resolution):\n",
  );
  console.log(
    "| deployment | request to run row (auth, access, agent) | run row to attempt started (insert, queue, lease) | attempt started to agent (memory, HTTP call) | GET /runs/{id} for comparison |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const f of figures) {
    console.log(
      `| ${MODE_LABEL[f.mode]} | ${ms(percentile(f.toCreated, 50))} | ${ms(percentile(f.toStarted, 50))} | ${ms(percentile(f.toAgent, 50))} | ${ms(percentile(f.read, 50))} |`,
    );
  }
  const bullmq = figures.find((f) => f.mode === "bullmq");
  if (bullmq) {
    const p50 = percentile(bullmq.dispatched, 50);
    console.log(
      `\nTarget p50 under 20 ms with BullMQ: ${p50 < 20 ? "met" : "NOT met"} (${ms(p50)} ms)`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// 2. Soak

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function soak(): Promise<void> {
  const runs = SOAK_SESSIONS * SOAK_TURNS;
  const agent = await BenchAgent.start(SOAK_AGENT_DELAY_MS);
  const deployment = await Deployment.create("bullmq", agent.url, {
    workers: 2,
    serves: SERVES,
    settings: { RUN_LEASE_MS: String(SOAK_LEASE_MS), RUN_RETRY_BACKOFF_MS: "200" },
  });
  const db = new pg.Client({ connectionString: deployment.database?.url });
  await db.connect();
  try {
    const count = async (sql: string, params: unknown[] = []) =>
      Number((await db.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
    const started = performance.now();

    // Every session's turns are asked for up front, ten at a time: later turns wait in order.
    const sessions: string[] = [];
    const order = new Map<string, string[]>(); // session -> run ids, in the order asked
    await inBatches(SOAK_SESSIONS, 10, async (i) => {
      const run = await deployment.startRun(`s${i} t1`);
      sessions[i] = run.session_id;
      order.set(run.session_id, [run.id]);
    });
    for (let turn = 2; turn <= SOAK_TURNS; turn++) {
      await inBatches(SOAK_SESSIONS, 10, async (i) => {
        const session = sessions[i] as string;
        const run = await deployment.startRun(`s${i} t${turn}`, session);
        order.get(session)?.push(run.id);
      });
    }
    const submittedMs = performance.now() - started;

    // Midway: kill -9 the worker with the most runs in hand, then start a new one.
    while ((await count(finishedSql)) < runs / 2) await sleep(50);
    const holders = await db.query<{ worker_id: string; n: string }>(
      "select worker_id, count(*) as n from runs where status = 'running' group by worker_id order by n desc",
    );
    const victimId = holders.rows[0]?.worker_id ?? "";
    const victim = deployment.workers.find((w) => w.pid === Number(victimId.split(":").at(-2)));
    if (!victim) throw new Error(`no worker holds a running run (${JSON.stringify(holders.rows)})`);
    victim.signal("SIGKILL");
    await victim.exited;
    const killedAtMs = performance.now() - started;
    const orphans = new Set(
      (
        await db.query<{ id: string }>(
          "select id from runs where status = 'running' and worker_id = $1",
          [victimId],
        )
      ).rows.map((row) => row.id),
    );
    const restart = performance.now();
    await deployment.startWorker();
    const restartMs = performance.now() - restart;

    let finished = await count(finishedSql);
    while (finished < runs && performance.now() - started < 10 * 60_000) {
      await sleep(100);
      finished = await count(finishedSql);
    }
    const lastFinished = await db.query<{ at: Date; first: Date }>(
      "select max(finished_at) as at, min(created_at) as first from runs",
    );
    const durationMs =
      (lastFinished.rows[0]?.at.getTime() ?? 0) - (lastFinished.rows[0]?.first.getTime() ?? 0);

    const checks = await soakChecks(db, order, agent, runs);
    const recoveredRuns = (
      await db.query<{ run_id: string }>(
        "select run_id from run_events where type = 'run.status' and data->>'recovered' = 'true'",
      )
    ).rows.map((row) => row.run_id);
    const recovered = recoveredRuns.length;
    const redeliveredRuns = new Set(
      agent.arrivals.filter((a) => a.attempt > 1).map((arrival) => arrival.runId),
    );
    const sameSet = (a: Set<string>, b: Set<string>) =>
      a.size === b.size && [...a].every((id) => b.has(id));
    checks.push({
      name: "recovered (attempt 2) exactly the runs the killed worker had in hand, once each",
      ok:
        recoveredRuns.length > 0 &&
        sameSet(new Set(recoveredRuns), orphans) &&
        recoveredRuns.length === orphans.size,
      detail: `${recoveredRuns.length} recovered attempts for ${orphans.size} orphaned runs`,
    });
    checks.push({
      name: "the agent got a turn again only for those runs",
      ok: [...redeliveredRuns].every((id) => orphans.has(id)),
      detail: `${redeliveredRuns.size} runs sent again, all orphaned: ${[...redeliveredRuns].every((id) => orphans.has(id))}`,
    });
    const attempts = await db.query<{ attempt: number; n: string }>(
      "select attempt, count(*) as n from runs group by attempt order by attempt",
    );
    const redelivered = redeliveredRuns.size;

    console.log(
      `\n## Soak: ${runs} runs over ${SOAK_SESSIONS} sessions, BullMQ, ${SERVES > 1 ? `${SERVES} serve behind a round-robin, ` : ""}2 workers, one killed -9 midway and restarted\n`,
    );
    console.log(`(agent answers after ${SOAK_AGENT_DELAY_MS} ms; RUN_LEASE_MS=${SOAK_LEASE_MS})\n`);
    console.log("| figure | value |");
    console.log("| --- | --- |");
    const rows: [string, string][] = [
      ["runs asked for", String(runs)],
      ["runs finished", String(finished)],
      ["all asked for within (ms)", ms(submittedMs)],
      ["worker killed at (ms)", `${ms(killedAtMs)} (${runs / 2}+ runs finished)`],
      ["runs in hand of the killed worker", String(orphans.size)],
      ["replacement worker ready after (ms)", ms(restartMs)],
      ["recovered attempts (run.status recovered: true)", String(recovered)],
      ["runs by final attempt", attempts.rows.map((r) => `${r.attempt}: ${r.n}`).join(", ")],
      ["turns the agent received", String(agent.arrivals.length)],
      ["runs the agent received again (attempt 2+)", String(redelivered)],
      ["duration, first run asked to last finished (ms)", ms(durationMs)],
      ["throughput (runs/s)", (finished / (durationMs / 1000)).toFixed(1)],
    ];
    for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
    console.log("\n| check | result | detail |");
    console.log("| --- | --- | --- |");
    for (const check of checks)
      console.log(`| ${check.name} | ${check.ok ? "pass" : "FAIL"} | ${check.detail} |`);
    if (checks.some((check) => !check.ok)) process.exitCode = 1;
  } finally {
    await db.end();
    await deployment.close();
    await agent.close();
  }
}

const finishedSql =
  "select count(*) as n from runs where status in ('succeeded', 'failed', 'cancelled')";

async function soakChecks(
  db: pg.Client,
  order: Map<string, string[]>,
  agent: BenchAgent,
  runs: number,
): Promise<Check[]> {
  const one = async (sql: string) => Number((await db.query(sql)).rows[0]?.n ?? 0);
  const checks: Check[] = [];
  const succeeded = await one("select count(*) as n from runs where status = 'succeeded'");
  checks.push({
    name: "every run succeeded",
    ok: succeeded === runs,
    detail: `${succeeded} of ${runs}`,
  });
  const answers = await one(
    `select count(*) as n from runs r
      where (select count(*) from messages m where m.run_id = r.id and m.role = 'agent') <> 1`,
  );
  checks.push({
    name: "one answer per run in the transcript",
    ok: answers === 0,
    detail: `${answers} runs with none or several`,
  });
  const timelines = await one(
    `select count(*) as n from (
       select run_id from run_events group by run_id
       having min(seq) <> 1 or max(seq) <> count(*)
          or count(*) filter (where type = 'run.status'
                and data->>'status' in ('succeeded', 'failed', 'cancelled')) <> 1
          or max(seq) <> max(seq) filter (where type = 'run.status'
                and data->>'status' in ('succeeded', 'failed', 'cancelled'))) x`,
  );
  checks.push({
    name: "timelines whole: seqs 1..n, one closing run.status, last",
    ok: timelines === 0,
    detail: `${timelines} runs otherwise`,
  });
  const ledger = await one(
    `select count(*) as n from runs r where (select count(*) from ledger l where l.run_id = r.id) <> 1`,
  );
  const ledgerRows = await one("select count(*) as n from ledger");
  checks.push({
    name: "usage booked once per run (ledger)",
    ok: ledger === 0 && ledgerRows === runs,
    detail: `${ledgerRows} rows; ${ledger} runs with none or several`,
  });

  // In order within each session: finished in the order asked; each answer says its turn
  // (the agent counts the turns it was told of), and the agent got turn k only after k-1
  // had succeeded (its memory held the k-1 earlier turns).
  const rows = (
    await db.query<{ id: string; finished_at: Date; output: string }>(
      "select id, finished_at, output from runs",
    )
  ).rows;
  const byId = new Map(rows.map((row) => [row.id, row]));
  let outOfOrder = 0;
  let wrongTurn = 0;
  let wrongMemory = 0;
  for (const ids of order.values()) {
    ids.forEach((id, k) => {
      const run = byId.get(id);
      const previous = k > 0 ? byId.get(ids[k - 1] as string) : undefined;
      if (previous && run && !(run.finished_at > previous.finished_at)) outOfOrder++;
      if (!run?.output?.startsWith(`turn ${k + 1}: `)) wrongTurn++;
      for (const arrival of agent.arrivals.filter((a) => a.runId === id)) {
        if (arrival.memory !== 2 * k) wrongMemory++;
      }
    });
  }
  checks.push({
    name: "in order within each session (finish order, turn numbers, memory sent)",
    ok: outOfOrder + wrongTurn + wrongMemory === 0,
    detail: `${outOfOrder} finished out of order, ${wrongTurn} wrong turn numbers, ${wrongMemory} turns sent with the wrong memory`,
  });
  const orderedTranscripts = await one(
    `select count(*) as n from (
       select session_id, role, run_id,
              lag(role) over (partition by session_id order by r_seq, id) as prev_role
         from (select m.*, r.enqueued_seq as r_seq from messages m join runs r on r.id = m.run_id) t
     ) x where role = prev_role`,
  );
  checks.push({
    name: "transcripts alternate question and answer",
    ok: orderedTranscripts === 0,
    detail: `${orderedTranscripts} messages following one of their own role`,
  });
  return checks;
}

async function inBatches(
  total: number,
  size: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < total; start += size) {
    await Promise.all(
      Array.from({ length: Math.min(size, total - start) }, (_, j) => work(start + j)),
    );
  }
}

// ---------------------------------------------------------------------------------------

if (only !== "soak") {
  const figures: DispatchFigures[] = [];
  for (const mode of ["bullmq", "in-process-pglite", "in-process-postgres"] as const) {
    figures.push(await measureDispatch(mode));
  }
  printDispatch(figures);
}
if (only !== "dispatch") await soak();
