import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LoadResult } from "./load.js";
import type { RateSearch } from "./rate-search.js";

/** The bench's figures as a table, and the issue's targets checked against them. */

export interface Figure {
  p50: number;
  p99: number;
}

export const median = (values: number[]): number => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : "—");

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** "p50 / p99" of the added latency over the direct call, in ms. */
export function added(target: Figure, direct: Figure): string {
  return `${ms(target.p50 - direct.p50)} / ${ms(target.p99 - direct.p99)}`;
}

export function check(label: string, ok: boolean, detail: string): string {
  return `${ok ? "PASS" : "MISS"}  ${label}: ${detail}`;
}

export interface BenchFigures {
  scenarios: string[];
  cpuScenario: string;
  rounds: number;
  seconds: number;
  results: Record<string, Record<string, LoadResult[]>>;
  cpu: Record<string, number[]>;
  rateSearch: RateSearch;
  /** Resident memory after start, and with 1,000 streams open (before any other load). */
  memory: Record<string, { started: number; streams: number }>;
  resultsDir: string;
}

/** Prints the tables and the targets, and keeps the raw figures in `resultsDir`. */
export function printReport(figures: BenchFigures): void {
  const { scenarios, cpuScenario, rounds, results, cpu, rateSearch, memory } = figures;
  const { maxRate } = rateSearch;
  const fig = (scenario: string, name: string) => {
    const runs = results[scenario]?.[name] ?? [];
    return {
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      rate: median(runs.map((r) => r.requests / r.seconds)),
      failures: runs.reduce((n, r) => n + r.failures, 0),
    };
  };
  const rows = scenarios.map((name) => {
    const direct = fig(name, "direct");
    const cell = (target: string) => {
      const f = fig(name, target);
      return `${added(f, direct)}${f.failures ? ` (${f.failures} failed)` : ""}`;
    };
    return [
      name,
      `${ms(direct.p50)} / ${ms(direct.p99)}`,
      cell("bare"),
      cell("switchboard"),
      cell("portkey"),
      String(Math.round(fig(name, "switchboard").rate)),
    ];
  });
  console.log(
    `\nAdded latency over calling the upstream directly, ms, p50 / p99 (medians over ${rounds} round(s)):\n`,
  );
  console.log(
    table(
      [
        "scenario",
        "direct (absolute)",
        "bare undici",
        "switchboard",
        "portkey",
        "switchboard req/s",
      ],
      rows,
    ),
  );
  const cpuUs = (name: string) => median(cpu[name] ?? []);
  console.log(
    `\nPer process: CPU per request at ${cpuScenario}; resident memory after start and with
1,000 streams open (measured first, before any other load).\n`,
  );
  console.log(
    table(
      [
        "process",
        "CPU µs/request",
        "RSS at start MB",
        "RSS 1,000 streams MB",
        "max req/s with p50 added < 1 ms",
      ],
      ["bare", "switchboard", "portkey"].map((name) => [
        name,
        cpuUs(name).toFixed(0),
        (memory[name]?.started ?? Number.NaN).toFixed(0),
        (memory[name]?.streams ?? Number.NaN).toFixed(0),
        name === "portkey" ? "not searched" : String(maxRate[name] || "< 2000"),
      ]),
    ),
  );
  console.log(
    `\nRate search, paced JSON, medians over ${rateSearch.tries} tries per rate (pass: p50 added < 1 ms, ≥ 90% of the rate, no failures):\n`,
  );
  console.log(
    table(
      ["rate", "process", "p50 added ms", "achieved req/s", "failures", "pass"],
      rateSearch.steps.map((step) => [
        String(step.rate),
        step.name,
        ms(step.addedP50),
        String(step.achieved),
        String(step.failures),
        step.passed ? "yes" : "no",
      ]),
    ),
  );
  const addedP50 = (scenario: string, name: string) =>
    fig(scenario, name).p50 - fig(scenario, "direct").p50;
  const lines: string[] = [];
  for (const scenario of ["JSON, concurrency 1", "JSON, concurrency 50"]) {
    const [sb, bare, pk] = ["switchboard", "bare", "portkey"].map((n) => addedP50(scenario, n)) as [
      number,
      number,
      number,
    ];
    lines.push(
      check(
        `${scenario}: added p50 ≤ 1.25× bare`,
        sb <= 1.25 * bare,
        `${ms(sb)} vs ${ms(bare)} ms`,
      ),
    );
    lines.push(
      check(`${scenario}: added p50 ≤ ⅓ of Portkey's`, sb <= pk / 3, `${ms(sb)} vs ${ms(pk)} ms`),
    );
  }
  lines.push(
    check(
      "CPU per request ≤ 1.5× bare",
      cpuUs("switchboard") <= 1.5 * cpuUs("bare"),
      `${cpuUs("switchboard").toFixed(0)} vs ${cpuUs("bare").toFixed(0)} µs`,
    ),
  );
  const ttfb = addedP50("stream TTFB, concurrency 1", "switchboard");
  lines.push(check("stream TTFB added ≤ 0.5 ms at p50", ttfb <= 0.5, `${ms(ttfb)} ms`));
  lines.push(
    check(
      "≥ 4,000 req/s with p50 added < 1 ms",
      (maxRate.switchboard ?? 0) >= 4000,
      `${maxRate.switchboard || "< 2000"} req/s`,
    ),
  );
  console.log(`\nTargets (issue 7):\n${lines.join("\n")}`);
  const out = figures.resultsDir;
  mkdirSync(out, { recursive: true });
  const file = join(out, `proxy-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(figures, null, 2));
  console.log(`\nraw figures: ${file}`);
}
