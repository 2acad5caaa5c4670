/**
 * Benchmark of the embedded evaluator over authz/model.fga with 1,000 agents, 200 teams and
 * 5,000 users:  npx tsx bench/authz/run.ts
 *
 * Targets: check p99 < 1 ms; filtering a page of 50 agents for one user (one batch check)
 * < 5 ms. ListObjects is measured for information. Exits 1 if a target is missed.
 */

import { readFileSync } from "node:fs";
import { compileModel, ModelEvaluator, TupleIndex } from "../../authz/embedded/index.js";
import { buildDataset, mulberry32 } from "./dataset.js";

const shape = { users: 5_000, teams: 200, agents: 1_000, platformAdmins: 3 };
const modelDsl = readFileSync(new URL("../../authz/model.fga", import.meta.url), "utf8");

const dataset = buildDataset(shape);
const index = new TupleIndex();
const loadStart = performance.now();
for (const tuple of dataset.tuples) index.add(tuple);
const loadMs = performance.now() - loadStart;
const fga = new ModelEvaluator(compileModel(modelDsl), index);

const random = mulberry32(7);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const relations = ["viewer", "runner", "editor", "owner"] as const;

/** Half random pairs (mostly denied), half a member of the agent's owning team (allowed). */
function checkRequest() {
  const agent = pick(dataset.agents);
  const members = dataset.ownerTeamMembers.get(agent) ?? [];
  const user = random() < 0.5 || members.length === 0 ? pick(dataset.users) : pick(members);
  return { user, relation: pick(relations), object: agent };
}

/** Sorted latencies in ms of `iterations` runs after a warm-up; `tally` sees measured results only. */
function measure<T>(
  iterations: number,
  run: () => T,
  tally: (result: T) => void = () => {},
): number[] {
  for (let i = 0; i < Math.min(200, iterations); i++) run();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    const result = run();
    samples.push(performance.now() - start);
    tally(result);
  }
  return samples.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

let allowed = 0;
const checks = measure(
  20_000,
  () => fga.check(checkRequest()),
  (result) => {
    if (result) allowed++;
  },
);
const pages = measure(2_000, () =>
  fga.batchCheck({
    user: pick(dataset.users),
    relation: "viewer",
    objects: Array.from({ length: 50 }, () => pick(dataset.agents)),
  }),
);
let listed = 0;
const lists = measure(
  500,
  () => {
    const user = random() < 0.02 ? pick(dataset.platformAdmins) : pick(dataset.users);
    return fga.listObjects({ user, relation: "viewer", type: "agent" }).length;
  },
  (count) => {
    listed += count;
  },
);

const rows = [
  ["check (viewer/runner/editor/owner)", checks, 1],
  ["filter a page of 50 agents (batch check)", pages, 5],
  ["list_objects(user, viewer, agent)", lists, undefined],
] as const;

console.log(
  `${dataset.tuples.length} tuples (${shape.users} users, ${shape.teams} teams, ${shape.agents} agents), indexed in ${loadMs.toFixed(0)} ms`,
);
console.log(
  `checks allowed: ${((100 * allowed) / checks.length).toFixed(0)}%; mean agents listed per user: ${(listed / lists.length).toFixed(0)}`,
);
console.log("");
console.log(
  `${"operation".padEnd(42)}${"n".padStart(7)}${"p50 ms".padStart(10)}${"p99 ms".padStart(10)}  target`,
);
let missed = false;
for (const [name, samples, targetMs] of rows) {
  const p99 = percentile(samples, 99);
  const verdict =
    targetMs === undefined ? "-" : `p99 < ${targetMs} ms ${p99 < targetMs ? "ok" : "MISSED"}`;
  if (targetMs !== undefined && p99 >= targetMs) missed = true;
  console.log(
    `${name.padEnd(42)}${String(samples.length).padStart(7)}${percentile(samples, 50).toFixed(3).padStart(10)}${p99.toFixed(3).padStart(10)}  ${verdict}`,
  );
}
process.exitCode = missed ? 1 : 0;
