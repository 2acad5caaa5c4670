/**
 * Directory latency with 10,000 agents and a person who may view 2,000 of them:
 *   npx tsx bench/directory/run.ts [--quick] [--only pglite,postgres,openfga]
 *
 * For each backend (the embedded default: PGlite + the embedded evaluator; PostgreSQL + the
 * embedded evaluator; PostgreSQL + an OpenFGA server, when installed) it seeds the data,
 * starts `switchboard serve`, and times the REST API's list (a page of 50, with and without a
 * search term, with facets) and the catalog page, one request at a time after a warm-up.
 * Target: p95 under 50 ms for a page of 50. PostgreSQL comes from TEST_DATABASE_URL (a
 * database of its own, dropped afterwards).
 */

import { availableParallelism, loadavg } from "node:os";
import { findOpenFgaBinary } from "../../test/support/openfga-server.js";
import { BENCH_USER, buildDirectoryDataset, FACET_TAG, SEARCH_TERM } from "./dataset.js";
import { type Backend, BenchDeployment } from "./deployment.js";
import { type Latency, measure } from "./measure.js";

const TARGET_P95_MS = 50;
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args[args.indexOf("--only") + 1]?.split(",");
const iterations = quick ? 100 : 300;
const warmUp = quick ? 20 : 50;

interface Scenario {
  name: string;
  path: string;
  /** Whether the page-of-50 target applies (the catalog shows 24 agents a page). */
  targeted: boolean;
}

const q = encodeURIComponent(SEARCH_TERM);
const SCENARIOS: Scenario[] = [
  { name: "API list, page of 50", path: "/api/v1/agents?limit=50&facets=false", targeted: true },
  {
    name: `API list, search "${SEARCH_TERM}"`,
    path: `/api/v1/agents?limit=50&facets=false&q=${q}`,
    targeted: true,
  },
  { name: "API list + facets", path: "/api/v1/agents?limit=50&facets=true", targeted: true },
  {
    name: `API list, search + tag + facets`,
    path: `/api/v1/agents?limit=50&facets=true&q=${q}&tag=${FACET_TAG}`,
    targeted: true,
  },
  { name: "catalog page /", path: "/", targeted: false },
  { name: `catalog page /?q=${SEARCH_TERM}`, path: `/?q=${q}`, targeted: false },
];

interface Row {
  backend: Backend;
  scenario: Scenario;
  items: number;
  latency: Latency;
  /** Mean CPU time of the serve process per request. */
  cpuMs: number;
}

/** Every agent listed must be one the bench user may view: every fifth by name (or the demo agent). */
function checkVisible(body: string): number {
  const page = JSON.parse(body) as { items: { name: string }[] };
  for (const { name } of page.items) {
    const n = Number(name.replace(/^agent-/, ""));
    if (name !== "demo" && n % 5 !== 0) throw new Error(`${BENCH_USER} was shown ${name}`);
  }
  return page.items.length;
}

async function benchBackend(
  backend: Backend,
  rows: Row[],
  dataset: ReturnType<typeof buildDirectoryDataset>,
) {
  const binary = backend === "postgres + openfga" ? findOpenFgaBinary().path : undefined;
  const deployment = await BenchDeployment.start(backend, dataset, { openFgaBinary: binary });
  try {
    for (const scenario of SCENARIOS) {
      const first = await deployment.get(scenario.path);
      if (first.status !== 200) {
        throw new Error(
          `${scenario.path} answered ${first.status}: ${first.body}\n${deployment.logTail()}`,
        );
      }
      const items = scenario.path.startsWith("/api/")
        ? checkVisible(first.body)
        : (first.body.match(/class="card agent-card"/g) ?? []).length;
      let cpuBefore = 0;
      const latency = await measure(() => deployment.get(scenario.path), {
        warmUp,
        iterations,
        onMeasuring: () => {
          cpuBefore = deployment.cpuSeconds();
        },
      });
      const cpuMs = ((deployment.cpuSeconds() - cpuBefore) * 1000) / iterations;
      rows.push({ backend, scenario, items, latency, cpuMs });
      console.error(`  ${backend} · ${scenario.name}: p95 ${latency.p95.toFixed(1)} ms`);
    }
  } finally {
    await deployment.close();
  }
}

function printTable(rows: Row[]): void {
  const ms = (value: number) => value.toFixed(1).padStart(7);
  console.log(
    `\nDirectory latency: 10,000 agents, ${BENCH_USER} may view 2,000; ${iterations} sequential requests after ${warmUp} warm-up, ms`,
  );
  console.log(
    `| backend | request | items | p50 | p95 | p99 | serve CPU / request | p95 < ${TARGET_P95_MS} ms |`,
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const { backend, scenario, items, latency, cpuMs } of rows) {
    const met = scenario.targeted ? (latency.p95 < TARGET_P95_MS ? "yes" : "**no**") : "—";
    console.log(
      `| ${backend} | ${scenario.name} | ${items} | ${ms(latency.p50)} | ${ms(latency.p95)} | ${ms(latency.p99)} | ${ms(cpuMs)} | ${met} |`,
    );
  }
}

const dataset = buildDirectoryDataset();
console.error(
  `dataset: ${dataset.agents.length} agents, ${dataset.tuples.length} tuples, ${dataset.visibleToUser} visible to ${BENCH_USER}`,
);
const backends: Backend[] = ["pglite", "postgres", "postgres + openfga"];
const rows: Row[] = [];
for (const backend of backends) {
  const key = backend === "postgres + openfga" ? "openfga" : backend;
  if (only && !only.includes(key)) continue;
  if (backend === "postgres + openfga" && !findOpenFgaBinary().path) {
    console.error("  skipped postgres + openfga: the OpenFGA server is not installed");
    continue;
  }
  try {
    await benchBackend(backend, rows, dataset);
  } catch (error) {
    // One backend failing (e.g. timing out) still leaves the others' figures.
    console.error(`  ${backend} failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
printTable(rows);
const load = loadavg()[0]?.toFixed(1);
console.log(
  `\nLoad average at the end: ${load} on ${availableParallelism()} cores (latencies grow with it; CPU per request much less).`,
);
