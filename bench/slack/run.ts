/**
 * Slack, measured against a real `switchboard serve` (embedded defaults: PGlite, in-process
 * runs) with Slack switched on and its Web API pointed at the local double the tests use:
 *
 * 1. Acknowledgement latency: from sending a signed `app_mention` to Switchboard's HTTP
 *    answer (Slack retries after 3 s), for mentions sent one at a time and for 200 sent at
 *    once. Target: p99 under 100 ms for the 200.
 * 2. Mention to first sign of life: from sending the event to the double receiving the first
 *    `assistant.threads.setStatus` or `chat.postMessage` for that thread, the same two ways.
 *
 * Every mention names the demo agent (answering after 30 ms), so each one is a real run.
 * Two deployments: the embedded default (PGlite, runs in serve's own process) and PostgreSQL
 * + Redis with one `switchboard worker` running the agents (TEST_DATABASE_URL, BENCH_REDIS_URL).
 *
 *   npx tsx bench/slack/run.ts [--quick] [--only pglite|postgres] [--workers N] [--serves N]
 *
 * On PostgreSQL, `--workers` (default 2) workers run the agents, and `--serves 2` puts two
 * `serve` processes behind a round-robin balancer (test/support/round-robin.ts).
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { SlackWebApiDouble } from "../../test/doubles/slack-web-api.js";
import { freePort } from "../../test/support/ports.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { RoundRobin } from "../../test/support/round-robin.js";
import { agentManifest, SIGNING_SECRET, SlackHarness } from "../../test/support/slack-harness.js";
import { SwitchboardProcess } from "../../test/support/switchboard-process.js";

const run = promisify(execFile);
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const REDIS_URL = process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379";
const WARMUP = 20;
const SEQUENTIAL = quick ? 30 : 100;
const BURST = 200;
/** `serve` processes on PostgreSQL, behind a round-robin balancer when more than one (`--serves N`). */
const SERVES = args.includes("--serves") ? Number(args[args.indexOf("--serves") + 1]) : 1;
/** `switchboard worker`s next to serve on PostgreSQL (`--workers N`). */
const WORKERS = args.includes("--workers") ? Number(args[args.indexOf("--workers") + 1]) : 2;

interface Sample {
  ack: number;
  /** When the request was written (epoch ms): the order of arrival. */
  sentAt: number;
  /** ms from sending to the answer's first words in the thread; undefined when none came. */
  answer?: number;
  /** serve's own measure of this round's answers under 100 ms, as a share (same for all). */
  serverFast?: number;
  /** ms from sending to the first sign of life; undefined when none came. */
  life?: number;
  /** ms from sending to the "working…" message (or status); undefined when none came. */
  working?: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

let tsCounter = 0;
const nextTs = () => `1750000000.${String(++tsCounter).padStart(6, "0")}`;

interface Sent {
  ts: string;
  /** When the request was written (epoch ms). */
  sentAt: number;
  ack: number;
}

/**
 * `count` signed mentions, each in a thread of its own, sent by a process of its own
 * (burst-sender.ts) so the acks are not timed through this process's event loop, which
 * also serves the Slack double: all at once, or one at a time `gapMs` apart.
 */
async function send(
  harness: SlackHarness,
  base: string,
  count: number,
  gapMs?: number,
): Promise<Sent[]> {
  const threads = Array.from({ length: count }, () => nextTs());
  const bodies = threads.map((ts, i) =>
    harness.events.mentionBody(
      "UADA",
      "helpdesk hello from the bench",
      ts,
      `EvBENCH${tsCounter}x${i}`,
    ),
  );
  const file = join(harness.root, `mentions-${tsCounter}.json`);
  const url = `${base}/slack/events`;
  writeFileSync(file, JSON.stringify({ url, secret: SIGNING_SECRET, bodies, gapMs }));
  const sender = fileURLToPath(new URL("./burst-sender.ts", import.meta.url));
  const { stdout } = await run(process.execPath, ["--import", "tsx", sender, file], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const results = JSON.parse(stdout) as { sentAt: number; ack: number; status: number }[];
  return results.map((result, i) => {
    if (result.status !== 200) throw new Error(`mention answered ${result.status}`);
    return { ts: threads[i] ?? "", sentAt: result.sentAt, ack: result.ack };
  });
}

/**
 * The first sign of life the double received for each thread: the 👀 on the mention
 * (reactions.add), or, with `working` (and before the 👀 existed), the "working…" message or
 * the assistant thread's status.
 */
function firstSignOfLife(slack: SlackWebApiDouble, working = false): Map<string, number> {
  const first = new Map<string, number>();
  for (const call of slack.calls) {
    const thread =
      call.method === "reactions.add" && !working
        ? String(call.args.timestamp ?? "")
        : call.method === "chat.postMessage" || call.method === "assistant.threads.setStatus"
          ? String(call.args.thread_ts ?? "")
          : "";
    if (thread && !first.has(thread)) first.set(thread, call.at);
  }
  return first;
}

/**
 * When each thread's answer started showing: the first edit of its working message
 * (chat.update) or the first stream started in it (chat.startStream).
 */
function answerStarts(slack: SlackWebApiDouble): Map<string, number> {
  const threadOfMessage = new Map<string, string>();
  const first = new Map<string, number>();
  for (const call of slack.calls) {
    if (call.method === "chat.postMessage" && call.response?.ts) {
      threadOfMessage.set(String(call.response.ts), String(call.args.thread_ts ?? ""));
    }
    const thread =
      call.method === "chat.update"
        ? threadOfMessage.get(String(call.args.ts))
        : call.method === "chat.startStream"
          ? String(call.args.thread_ts ?? "")
          : undefined;
    if (thread && !first.has(thread)) first.set(thread, call.at);
  }
  return first;
}

/**
 * serve's own count of /slack/events answers by duration (its request-duration histogram):
 * le → cumulative count. Time from express taking the request to the answer, so not the
 * time a request waits to be read; next to the bench's figures it says where time goes.
 */
async function serverBuckets(harness: SlackHarness): Promise<Map<string, number>> {
  const text = await (await fetch(`${harness.baseUrl}/metrics`)).text();
  const buckets = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = line.match(
      /^switchboard_http_request_duration_seconds_bucket\{le="([^"]+)",method="POST",route="\/slack\/events"\} (\d+)/,
    );
    if (match) buckets.set(match[1] as string, Number(match[2]));
  }
  return buckets;
}

/** Waits until every thread has its answer (so one round does not spill into the next). */
async function settle(slack: SlackWebApiDouble, count: number, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const answered = slack.calls.filter((call) =>
      JSON.stringify(call.args.blocks ?? "").includes("View on Switchboard"),
    ).length;
    if (answered >= count) return;
    if (Date.now() - started > timeoutMs) throw new Error(`only ${answered} of ${count} answers`);
    await sleep(100);
  }
}

async function round(
  harness: SlackHarness,
  base: string,
  count: number,
  concurrent: boolean,
): Promise<Sample[]> {
  harness.slack.reset();
  harness.slack.allow(
    "reactions.add",
    "assistant.threads.setStatus",
    "chat.postMessage",
    "chat.startStream",
    "chat.update",
  );
  const before = await serverBuckets(harness);
  const sent = await send(harness, base, count, concurrent ? undefined : 20);
  await settle(harness.slack, count);
  const after = await serverBuckets(harness);
  const delta = (le: string) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const serverFast = delta("+Inf") > 0 ? delta("0.1") / delta("+Inf") : Number.NaN;
  const life = firstSignOfLife(harness.slack);
  const working = firstSignOfLife(harness.slack, true);
  const answers = answerStarts(harness.slack);
  if (harness.slack.unexpected.length > 0) {
    throw new Error(`unexpected Slack calls: ${harness.slack.unexpected.join(", ")}`);
  }
  return sent.map((s) => {
    const at = life.get(s.ts);
    const answered = answers.get(s.ts);
    const workingAt = working.get(s.ts);
    return {
      ack: s.ack,
      sentAt: s.sentAt,
      serverFast,
      ...(at !== undefined ? { life: at - s.sentAt } : {}),
      ...(answered !== undefined ? { answer: answered - s.sentAt } : {}),
      ...(workingAt !== undefined ? { working: workingAt - s.sentAt } : {}),
    };
  });
}

function row(label: string, samples: Sample[]): string {
  const acks = samples.map((s) => s.ack);
  const lives = samples.flatMap((s) => (s.life === undefined ? [] : [s.life]));
  const answers = samples.flatMap((s) => (s.answer === undefined ? [] : [s.answer]));
  const working = samples.flatMap((s) => (s.working === undefined ? [] : [s.working]));
  const order = answerOrder(samples);
  const f = (n: number) => n.toFixed(1).padStart(7);
  return `| ${label.padEnd(38)} | ${String(samples.length).padStart(5)} | ${f(percentile(acks, 50))} | ${f(percentile(acks, 99))} | ${f(Math.max(...acks))} | ${f(percentile(lives, 50))} | ${f(percentile(lives, 99))} | ${String(samples.length - lives.length).padStart(7)} | ${f(percentile(working, 50))} | ${f(percentile(working, 99))} | ${f(percentile(answers, 50))} | ${f(percentile(answers, 99))} | ${order.rho.toFixed(3)} | ${f(order.overtakeP99)} | ${(100 * (samples[0]?.serverFast ?? Number.NaN)).toFixed(0).padStart(4)}% |`;
}

/**
 * Whether answers started in the order the mentions were sent: Spearman's rank correlation
 * of the two orders (1: the same order), and how far ahead of a mention sent before it an
 * answer started, at p99 (0: no answer ever overtook an earlier mention's).
 */
function answerOrder(samples: Sample[]): { rho: number; overtakeP99: number } {
  const answered = samples.flatMap((s) =>
    s.answer === undefined ? [] : [{ sent: s.sentAt, started: s.sentAt + s.answer }],
  );
  const rank = (values: number[]) => {
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    const ranks = new Array<number>(values.length);
    order.forEach(([, i], r) => {
      ranks[i] = r;
    });
    return ranks;
  };
  const n = answered.length;
  const sentRanks = rank(answered.map((a) => a.sent));
  const startRanks = rank(answered.map((a) => a.started));
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += ((sentRanks[i] ?? 0) - (startRanks[i] ?? 0)) ** 2;
  const rho = n > 1 ? 1 - (6 * d2) / (n * (n * n - 1)) : Number.NaN;
  const overtakes = answered.map((later) =>
    Math.max(
      0,
      ...answered
        .filter((earlier) => earlier.sent < later.sent)
        .map((earlier) => earlier.started - later.started),
    ),
  );
  return { rho, overtakeP99: percentile(overtakes, 99) };
}

type Deployment = "pglite" | "postgres";

async function measure(deployment: Deployment): Promise<{ sequential: Sample[]; burst: Sample[] }> {
  let database: TestDatabase | undefined;
  const workers: SwitchboardProcess[] = [];
  const serves: { serve: SwitchboardProcess; port: number }[] = [];
  let balancer: RoundRobin | undefined;
  if (deployment === "postgres") database = await createTestDatabase("bench-slack");
  const env: Record<string, string> = {
    // One person sends every mention here, standing for many: the per-person and per-agent
    // run limits would otherwise hold most of the burst's runs back.
    RUN_MAX_PER_USER: "10000",
    RUN_MAX_PER_AGENT: "10000",
    ...(database
      ? {
          DATABASE_URL: database.url,
          REDIS_URL,
          REDIS_KEY_PREFIX: `sbbench-slack-${process.pid}`,
        }
      : {}),
  };
  const harness = await SlackHarness.start({
    users: [{ id: "UADA", email: "ada@example.com", name: "Ada" }],
    agents: {
      "helpdesk.yaml": agentManifest({
        name: "helpdesk",
        title: "IT helpdesk",
        runtime: "    type: demo\n    delay_ms: 30",
        run: ['"user:*"'],
      }),
    },
    // Naming an agent in a mention picks it for people who use it, their team's, or featured ones.
    commands: [["agents", "feature", "helpdesk"]],
    env,
  });
  try {
    let base = harness.baseUrl;
    for (let i = 1; database && i < SERVES; i++) {
      const port = await freePort();
      const serve = new SwitchboardProcess(["serve"], {
        ...harness.env,
        PORT: String(port),
        PUBLIC_URL: harness.baseUrl,
      });
      serves.push({ serve, port });
      await serve.waitFor(`http://127.0.0.1:${port}/readyz`, 90_000);
    }
    if (serves.length > 0) {
      const first = Number(new URL(harness.baseUrl).port);
      balancer = await RoundRobin.start([first, ...serves.map(({ port }) => port)]);
      base = balancer.url;
    }
    for (let i = 0; database && i < WORKERS; i++) {
      const port = await freePort();
      const worker = new SwitchboardProcess(["worker", "--port", String(port)], harness.env);
      workers.push(worker);
      await worker.waitFor(`http://127.0.0.1:${port}/readyz`, 90_000);
    }
    await round(harness, base, WARMUP, false);
    const sequential = await round(harness, base, SEQUENTIAL, false);
    const burst = await round(harness, base, BURST, true);
    return { sequential, burst };
  } finally {
    const others = [...workers, ...serves.map(({ serve }) => serve)];
    for (const child of others) child.signal("SIGTERM");
    await Promise.all(others.map((child) => child.exited));
    await balancer?.close();
    await harness.close();
    await database?.drop();
  }
}

async function main(): Promise<void> {
  const deployments: Deployment[] = only ? [only as Deployment] : ["pglite", "postgres"];
  const rows: string[] = [];
  for (const deployment of deployments) {
    console.log(`${deployment}: starting… load average ${loadavg()[0]?.toFixed(2)}`);
    const { sequential, burst } = await measure(deployment);
    const label =
      deployment === "pglite"
        ? "PGlite, in-process"
        : `PostgreSQL, ${SERVES > 1 ? `${SERVES} serve + ` : ""}${WORKERS} workers`;
    rows.push(row(`${label}, one at a time`, sequential), row(`${label}, ${BURST} at once`, burst));
  }
  console.log("\nSlack: acknowledgement and first sign of life (ms)\n");
  console.log(
    "| mentions | n | ack p50 | ack p99 | ack max | life p50 | life p99 | no life | working p50 | working p99 | answer p50 | answer p99 | order ρ | overtake p99 | serve < 100 ms |",
  );
  console.log(
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const line of rows) console.log(line);
  console.log(
    `\nload average after: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}`,
  );
}

await main();
