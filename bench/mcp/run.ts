/**
 * What the MCP server adds, and what listing many tools costs:
 *   npx tsx bench/mcp/run.ts [--quick] [--only call,list]
 *
 * - call: one run of a demo agent (no delay between its words), from asking to holding the
 *   whole answer, one at a time, alternating between the REST API (POST /agents/{name}/runs,
 *   then its events over SSE until the run closes) and MCP (the official client's
 *   tools/call, a stateless POST /mcp answered over SSE). `switchboard serve` on the
 *   embedded default (PGlite, in-process runs).
 * - list: tools/list for a person who may run 2,000 of 10,000 agents (bench/directory's
 *   dataset, seeded straight into the database), the first page and every page (100 tools
 *   a page), and GET /api/v1/agents for a page of 50 beside it.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { allToolNames, mcpClient } from "../../test/support/mcp-client.js";
import { freePort } from "../../test/support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../../test/support/switchboard-process.js";
import { BENCH_USER, buildDirectoryDataset } from "../directory/dataset.js";
import { type Latency, measure } from "../directory/measure.js";
import { seed } from "../directory/seed.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? (args[onlyAt + 1]?.split(",") ?? []) : ["call", "list"];
const runs = quick ? 60 : 300;
const warmUp = quick ? 10 : 30;

const AGENT = `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: bench-demo
  title: Bench demo
  description: The demo agent without pauses.
  owner: team:bench
spec:
  runtime: { type: demo, delay_ms: 0 }
  access:
    view: ["user:${BENCH_USER}"]
    run: ["user:${BENCH_USER}"]
`;

interface Served {
  base: string;
  key: string;
  serve: SwitchboardProcess;
  dir: string;
}

async function startServe(dir: string, prepare: (env: Record<string, string>) => Promise<void>) {
  const env = { SWITCHBOARD_DATA_DIR: join(dir, "data"), LOG_LEVEL: "warn" };
  await prepare(env);
  const created = await runSwitchboard(["keys", "create", "--user", BENCH_USER], env);
  if (created.code !== 0) throw new Error(created.stderr);
  const key = created.stdout.trim().split("\n").at(-1) ?? "";
  const port = await freePort();
  const serve = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  await serve.waitFor(`${base}/readyz`, 180_000);
  return { base, key, serve, dir } satisfies Served;
}

/** A run through the REST API: start it, then read its events until it closes. */
async function restRun(served: Served, input: string): Promise<{ status: number }> {
  const headers = { authorization: `Bearer ${served.key}`, "content-type": "application/json" };
  const started = await fetch(`${served.base}/api/v1/agents/bench-demo/runs`, {
    method: "POST",
    headers,
    body: JSON.stringify({ input }),
  });
  const run = (await started.json()) as { id: string };
  if (started.status !== 201) return { status: started.status };
  const events = await fetch(`${served.base}/api/v1/runs/${run.id}/events`, { headers });
  let text = "";
  for await (const chunk of events.body ?? []) {
    text += Buffer.from(chunk).toString();
    if (/"status":"(succeeded|failed|cancelled)"/.test(text)) break;
  }
  return { status: text.includes('"status":"succeeded"') ? 200 : 500 };
}

async function mcpRun(client: Client, input: string): Promise<{ status: number }> {
  const result = await client.callTool({ name: "bench-demo", arguments: { request: input } });
  return { status: result.isError ? 500 : 200 };
}

const row = (name: string, l: Latency) =>
  `| ${name} | ${l.p50.toFixed(1)} | ${l.p95.toFixed(1)} | ${l.p99.toFixed(1)} | ${l.count} |`;

async function benchCall(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-bench-mcp-"));
  const file = join(dir, "agent.yaml");
  writeFileSync(file, AGENT);
  const served = await startServe(dir, async (env) => {
    const applied = await runSwitchboard(["agents", "apply", file], env);
    if (applied.code !== 0) throw new Error(applied.stderr);
  });
  try {
    const client = await mcpClient(served.base, served.key);
    // Alternating, so both paths see the same machine (load drifts on a shared one).
    const restSamples: number[] = [];
    const mcpSamples: number[] = [];
    for (let i = 0; i < warmUp; i++) {
      await restRun(served, `warm ${i}`);
      await mcpRun(client, `warm ${i}`);
    }
    for (let i = 0; i < runs; i++) {
      let start = performance.now();
      if ((await restRun(served, `rest ${i}`)).status !== 200) throw new Error("REST run failed");
      restSamples.push(performance.now() - start);
      start = performance.now();
      if ((await mcpRun(client, `mcp ${i}`)).status !== 200) throw new Error("MCP call failed");
      mcpSamples.push(performance.now() - start);
    }
    await client.close();
    const restL = summarize(restSamples);
    const mcpL = summarize(mcpSamples);
    return [
      "| one run of the demo agent, ask to whole answer | p50 ms | p95 ms | p99 ms | n |",
      "| --- | ---: | ---: | ---: | ---: |",
      row("REST: POST run + SSE events to the close", restL),
      row("MCP: tools/call (official client, stateless)", mcpL),
      `| MCP minus REST | ${(mcpL.p50 - restL.p50).toFixed(1)} | ${(mcpL.p95 - restL.p95).toFixed(1)} | ${(mcpL.p99 - restL.p99).toFixed(1)} | |`,
    ];
  } finally {
    await served.serve.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarize(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  return {
    p50: at(50),
    p95: at(95),
    p99: at(99),
    mean: sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length,
    count: sorted.length,
  };
}

async function benchList(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-bench-mcp-list-"));
  const dataset = buildDirectoryDataset(10_000, 7, { runnable: true });
  const served = await startServe(dir, (env) =>
    seed({ dataDir: dir }, dataset).then(() => void env),
  );
  try {
    const client = await mcpClient(served.base, served.key);
    const names = await allToolNames(client);
    // Every agent the dataset lets them run, and the built-in demo agent everyone may run.
    if (names.length !== dataset.visibleToUser + 1) {
      throw new Error(`tools/list offered ${names.length} tools, not ${dataset.visibleToUser + 1}`);
    }
    const iterations = quick ? 10 : 30;
    const ok = { status: 200 };
    const first = await measure(async () => client.listTools().then(() => ok), {
      warmUp: 5,
      iterations: iterations * 3,
    });
    const all = await measure(async () => allToolNames(client).then(() => ok), {
      warmUp: 2,
      iterations,
    });
    const api = await measure(
      async () => {
        const response = await fetch(`${served.base}/api/v1/agents?limit=50`, {
          headers: { authorization: `Bearer ${served.key}` },
        });
        await response.arrayBuffer();
        return { status: response.status };
      },
      { warmUp: 5, iterations: iterations * 3 },
    );
    await client.close();
    return [
      `| ${names.length} runnable of 10,000 agents (PGlite, embedded evaluator) | p50 ms | p95 ms | p99 ms | n |`,
      "| --- | ---: | ---: | ---: | ---: |",
      row("tools/list, first page (100 tools)", first),
      row(`tools/list, every page (${Math.ceil(names.length / 100)} requests)`, all),
      row("GET /api/v1/agents, page of 50 (for comparison)", api),
    ];
  } finally {
    await served.serve.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines: string[] = [];
const before = loadavg();
if (only.includes("call")) lines.push(...(await benchCall()), "");
if (only.includes("list")) lines.push(...(await benchList()), "");
const after = loadavg();
lines.push(
  `load average (1, 5, 15 min): before ${before.map((n) => n.toFixed(1)).join(", ")}; after ${after.map((n) => n.toFixed(1)).join(", ")}`,
);
console.log(lines.join("\n"));
