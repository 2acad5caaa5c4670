/**
 * What the A2A path adds over the REST API for one run of the demo agent, end to end through
 * a real `switchboard serve` on the embedded defaults (PGlite, in-process queue): the demo
 * runtime with no pause between words, each run in a new session, one request at a time,
 * the three ways interleaved in a shuffled order after a warm-up.
 *   - REST: `POST /api/v1/agents/{name}/runs`, then its events (SSE) read to the end;
 *   - A2A stream: one `SendStreamingMessage` (protocol 1.0), its SSE read to the end;
 *   - A2A blocking: one `SendMessage` (protocol 1.0) answered with the finished task.
 * Both ends are in this process, over loopback, with plain fetch (no SDK client).
 *   npx tsx bench/a2a/run.ts [--quick]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { stringify } from "yaml";
import { freePort } from "../../test/support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../../test/support/switchboard-process.js";

const quick = process.argv.includes("--quick");
const RUNS = quick ? 40 : 200;
const WARMUP = quick ? 5 : 15;
const AGENT = "bench-demo";

const root = mkdtempSync(join(tmpdir(), "switchboard-bench-a2a-"));
const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
mkdirSync(join(root, "agents"));
writeFileSync(
  join(root, "agents", `${AGENT}.yaml`),
  stringify({
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name: AGENT, title: "Bench demo", owner: "team:bench" },
    spec: { runtime: { type: "demo", delay_ms: 0 }, access: { view: ["user:*"], run: ["user:*"] } },
  }),
);

async function must(args: string[]): Promise<string> {
  const result = await runSwitchboard(args, env);
  if (result.code !== 0) throw new Error(`${args.join(" ")}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

await must(["agents", "apply", join(root, "agents")]);
const key = (await must(["keys", "create", "--user", "bench@example.com"]))
  .trim()
  .split("\n")
  .at(-1);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const serve = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
const auth = { authorization: `Bearer ${key}`, "content-type": "application/json" };

const message = (text: string) => ({
  message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] },
});

type Way = "rest" | "a2a-stream" | "a2a-send";

/** One run, each way, to its whole answer; throws unless the answer arrived. */
async function once(way: Way, n: number): Promise<number> {
  const text = `Bench run ${n}`;
  const started = performance.now();
  if (way === "rest") {
    const created = await fetch(`${base}/api/v1/agents/${AGENT}/runs`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ input: text }),
    });
    const run = (await created.json()) as { id: string };
    const events = await fetch(`${base}/api/v1/runs/${run.id}/events`, { headers: auth });
    const body = await events.text();
    if (!body.includes('"status":"succeeded"')) throw new Error(`rest: ${body.slice(-300)}`);
  } else {
    const method = way === "a2a-stream" ? "SendStreamingMessage" : "SendMessage";
    const response = await fetch(`${base}/a2a/${AGENT}`, {
      method: "POST",
      headers: { ...auth, "a2a-version": "1.0" },
      body: JSON.stringify({ jsonrpc: "2.0", id: n, method, params: message(text) }),
    });
    const body = await response.text();
    if (!body.includes("TASK_STATE_COMPLETED")) throw new Error(`${way}: ${body.slice(-300)}`);
  }
  return performance.now() - started;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};

try {
  await serve.waitFor(`${base}/readyz`, 180_000);
  const ways: Way[] = ["rest", "a2a-stream", "a2a-send"];
  const times: Record<Way, number[]> = { rest: [], "a2a-stream": [], "a2a-send": [] };
  for (let i = 0; i < WARMUP; i++) for (const way of ways) await once(way, i);
  const loadBefore = loadavg();
  for (let i = 0; i < RUNS; i++) {
    const order = [...ways].sort(() => Math.random() - 0.5);
    for (const way of order) times[way].push(await once(way, i));
  }
  const loadAfter = loadavg();
  const fmt = (ms: number) => ms.toFixed(1);
  const restP50 = percentile(times.rest, 50);
  const restP99 = percentile(times.rest, 99);
  console.log(
    `\n${RUNS} runs each after ${WARMUP} warm-up; ${cpus().length} cores; load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} after\n`,
  );
  console.log("| way | p50 ms | p99 ms | p50 over REST ms | p99 over REST ms |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const way of ways) {
    const p50 = percentile(times[way], 50);
    const p99 = percentile(times[way], 99);
    console.log(
      `| ${way} | ${fmt(p50)} | ${fmt(p99)} | ${way === "rest" ? "—" : fmt(p50 - restP50)} | ${way === "rest" ? "—" : fmt(p99 - restP99)} |`,
    );
  }
} finally {
  serve.signal("SIGTERM");
  await serve.exited;
  rmSync(root, { recursive: true, force: true });
}
