import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../test/support/ports.js";
import { type LoadResult, runTtfb, runWrk, type Target } from "./load.js";
import { type BenchProcess, startProcess } from "./processes.js";
import { searchMaxRate } from "./rate-search.js";
import { printReport } from "./report.js";
import { benchDatabase, ensurePortkey, ensureTools } from "./setup.js";

/**
 * The proxy bench, one command: `npx tsx bench/proxy/run.ts [--quick]`. Starts an upstream
 * double, a bare undici pass-through, Switchboard's proxy and the Portkey gateway as
 * separate processes on loopback, drives them with wrk and curl (not Node), round by round
 * with the targets' order rotated, and prints medians over the rounds. Stops by itself.
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 1 : 3;
const SECONDS = quick ? 2 : 3;
/**
 * Paced arrival with wrk: each connection waits this long on average between requests
 * (drawn from an exponential distribution, so arrivals spread out as they would from many
 * independent agents), and a rate R takes R/10 connections. A long pause keeps the rate
 * close to R whatever the latency (each connection sends every PACE_MS + latency).
 */
const PACE_MS = 100;

interface Scenario {
  name: string;
  body: "json" | "stream";
  connections?: number;
  delayMs?: number;
  parallel?: number;
  requests?: number;
}

const SCENARIOS: Scenario[] = [
  { name: "JSON, concurrency 1", body: "json", connections: 1 },
  { name: "JSON, concurrency 50", body: "json", connections: 50 },
  { name: "JSON, paced ~500/s", body: "json", connections: 50, delayMs: PACE_MS },
  { name: "JSON, paced ~2,000/s", body: "json", connections: 200, delayMs: PACE_MS },
  { name: "JSON, paced ~4,000/s", body: "json", connections: 400, delayMs: PACE_MS },
  { name: "stream TTFB, concurrency 1", body: "stream", parallel: 1, requests: quick ? 200 : 500 },
  {
    name: "stream TTFB, concurrency 50",
    body: "stream",
    parallel: 50,
    requests: quick ? 1000 : 2500,
  },
];
const CPU_SCENARIO = "JSON, paced ~2,000/s";

/**
 * Resolves once the process has used no CPU for a while (at most 5 s): one clock tick or
 * less in each of two 300 ms windows, longer than any periodic flush it makes.
 */
async function settled(proc: BenchProcess): Promise<void> {
  const deadline = Date.now() + 5000;
  let last = proc.cpuMs();
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = proc.cpuMs();
    quiet = now - last <= 10 ? quiet + 1 : 0;
    last = now;
  }
}

async function main(): Promise<void> {
  ensureTools();
  const portkeyEntry = ensurePortkey();
  const work = mkdtempSync(join(tmpdir(), "sb-bench-"));
  const bodies = {
    json: join(work, "json.json"),
    stream: join(work, "stream.json"),
    hold: join(work, "hold.json"),
  };
  const messages = [{ role: "user", content: "Say hello in one short sentence." }];
  writeFileSync(bodies.json, JSON.stringify({ model: "gpt-4o", messages, max_tokens: 32 }));
  writeFileSync(
    bodies.stream,
    JSON.stringify({ model: "gpt-4o", messages, max_tokens: 32, stream: true }),
  );
  writeFileSync(bodies.hold, JSON.stringify({ model: "hold", messages, stream: true }));

  const database = await benchDatabase();
  const tsx = ["--import", "tsx"];
  const processes: BenchProcess[] = [];
  const stopAll = () => Promise.all(processes.map((p) => p.stop()));
  try {
    const upstream = await startProcess("upstream", [
      ...tsx,
      join(here, "upstream.ts"),
      String(await freePort()),
    ]);
    processes.push(upstream);
    const bare = await startProcess("bare", [
      ...tsx,
      join(here, "bare-passthrough.ts"),
      String(await freePort()),
      upstream.url,
    ]);
    processes.push(bare);
    const args = [
      ...tsx,
      join(here, "switchboard-proxy.ts"),
      String(await freePort()),
      upstream.url,
    ];
    const switchboard = await startProcess(
      "switchboard",
      database ? [...args, database.url] : args,
    );
    processes.push(switchboard);
    const portkeyPort = await freePort();
    const portkey = await startProcess(
      "portkey",
      [
        "--import",
        join(here, "bind-loopback.mjs"),
        portkeyEntry,
        `--port=${portkeyPort}`,
        "--headless",
      ],
      { url: `http://127.0.0.1:${portkeyPort}`, readyWhen: /Ready for connections/ },
    );
    processes.push(portkey);

    const targets: Record<string, Target> = {
      direct: { name: "direct", url: upstream.url, headers: { authorization: "Bearer upstream" } },
      bare: { name: "bare", url: bare.url, headers: {} },
      switchboard: {
        name: "switchboard",
        url: switchboard.url,
        headers: { authorization: `Bearer ${switchboard.extra[0]}` },
      },
      portkey: {
        name: "portkey",
        url: portkey.url,
        headers: {
          authorization: "Bearer upstream",
          "x-portkey-provider": "openai",
          "x-portkey-custom-host": `${upstream.url}/v1`,
        },
      },
    };
    const proxyProcess: Record<string, BenchProcess> = { bare, switchboard, portkey };
    console.log(
      `key: ${database ? "a virtual key from PostgreSQL, spend to the ledger" : "the master key (no PostgreSQL reachable)"}`,
    );

    const script = join(here, "wrk-report.lua");
    const runOne = (scenario: Scenario, target: Target): Promise<LoadResult> =>
      scenario.parallel
        ? runTtfb(target, {
            bodyFile: bodies.stream,
            parallel: scenario.parallel,
            requests: scenario.requests ?? 500,
            workDir: work,
          })
        : runWrk(target, {
            bodyFile: bodies[scenario.body],
            connections: scenario.connections ?? 1,
            seconds: SECONDS,
            delayMs: scenario.delayMs,
            script,
          });

    // Memory with 1,000 streams open at once (each held two seconds by the upstream), first,
    // while RSS still says what the process needs rather than the peaks of earlier runs.
    const memory: Record<string, { started: number; streams: number }> = {};
    for (const name of ["bare", "switchboard", "portkey"]) {
      const proc = proxyProcess[name] as BenchProcess;
      const started = proc.rssMb();
      const load = runWrk(targets[name] as Target, {
        bodyFile: bodies.hold,
        connections: 1000,
        seconds: 4,
        script,
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const streams = proc.rssMb();
      await load.catch(() => undefined);
      memory[name] = { started, streams };
    }

    console.log("warming up…");
    for (const target of Object.values(targets)) {
      await runWrk(target, {
        bodyFile: bodies.json,
        connections: 10,
        seconds: quick ? 2 : 5,
        script,
      });
      await runTtfb(target, { bodyFile: bodies.stream, parallel: 4, requests: 100, workDir: work });
    }

    const names = Object.keys(targets);
    const results: Record<string, Record<string, LoadResult[]>> = {};
    const cpuPerRequestUs: Record<string, number[]> = { bare: [], switchboard: [], portkey: [] };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const scenario of SCENARIOS) {
        // Interleaved, and in a different order each round.
        const order = names.map((_, i) => names[(i + round) % names.length] as string);
        for (const name of order) {
          const target = targets[name] as Target;
          const proc = proxyProcess[name];
          const measuresCpu = proc !== undefined && scenario.name === CPU_SCENARIO;
          // Work a process defers (Switchboard's ledger writes) belongs to the requests that
          // caused it: the window starts once what earlier runs left has been done, and ends
          // once this run's own has (never sooner than the run itself).
          if (measuresCpu) await settled(proc);
          const cpuBefore = proc?.cpuMs() ?? 0;
          const result = await runOne(scenario, target);
          if (measuresCpu && result.requests > 0) {
            await settled(proc);
            cpuPerRequestUs[name]?.push(((proc.cpuMs() - cpuBefore) * 1000) / result.requests);
          }
          results[scenario.name] ??= {};
          (results[scenario.name] as Record<string, LoadResult[]>)[name] ??= [];
          results[scenario.name]?.[name]?.push(result);
          process.stdout.write(".");
        }
      }
      console.log(` round ${round + 1}/${ROUNDS}`);
    }

    // The highest paced rate at which the proxy's p50 added latency stays under 1 ms.
    const rateSearch = await searchMaxRate({
      rates: [2000, 4000, 6000, 8000, 10000],
      tries: ROUNDS,
      direct: targets.direct as Target,
      proxies: [targets.bare as Target, targets.switchboard as Target],
      runAt: (rate, target) =>
        runOne(
          {
            name: `rate ${rate}`,
            body: "json",
            connections: (rate * PACE_MS) / 1000,
            delayMs: PACE_MS,
          },
          target,
        ),
      onStep: () => process.stdout.write("."),
    });
    console.log(" rate search done");

    printReport({
      scenarios: SCENARIOS.map((sc) => sc.name),
      cpuScenario: CPU_SCENARIO,
      rounds: ROUNDS,
      seconds: SECONDS,
      results,
      cpu: cpuPerRequestUs,
      rateSearch,
      memory,
      resultsDir: join(root, "bench", "results"),
    });
  } finally {
    await stopAll();
    await database?.drop().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
