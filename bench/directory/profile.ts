/**
 * Where a directory list spends its time, in one process without HTTP:
 *   npx tsx bench/directory/profile.ts [DATA_DIR]
 * Seeds PGlite under DATA_DIR (kept, so a second run skips seeding), then times the parts of
 * `AgentDirectory.list` (candidate queries, access filtering, list-objects, facet counts).
 */

import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../app/index.js";
import { AccessPolicy, openAuthorizer, type UserPrincipal } from "../../authz/index.js";
import { createDirectoryServices } from "../../directory/index.js";
import { BENCH_USER, buildDirectoryDataset, FACET_TAG, SEARCH_TERM } from "./dataset.js";
import { seed } from "./seed.js";

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "switchboard-bench-profile-"));
if (!existsSync(join(dir, "data", "PG_VERSION")) && !existsSync(join(dir, "seeded"))) {
  await seed({ dataDir: dir }, buildDirectoryDataset());
  (await import("node:fs")).writeFileSync(join(dir, "seeded"), "");
}
const db = await openDatabase({ dataDir: join(dir, "data") });
const authorizer = await openAuthorizer({ knex: db.knex });
const access = new AccessPolicy(authorizer, 5_000);
const services = createDirectoryServices({ knex: db.knex, authorizer, access });
const principal: UserPrincipal = { kind: "user", userId: "x", email: BENCH_USER, via: "api" };

/** Wall time is at the mercy of other processes on a shared machine; CPU time much less so. */
async function time<T>(label: string, work: () => Promise<T>, runs = 20): Promise<T> {
  let result = await work();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const used = process.cpuUsage();
    result = await work();
    const { user, system } = process.cpuUsage(used);
    wall.push(performance.now() - start);
    cpu.push((user + system) / 1000);
  }
  const median = (values: number[]) =>
    (values.sort((a, b) => a - b)[Math.floor(runs / 2)] ?? 0).toFixed(1).padStart(7);
  console.log(`${label.padEnd(40)} wall ${median(wall)} ms   cpu ${median(cpu)} ms`);
  return result;
}

const registry = services.registry;
await time("registry.page (100 rows)", () => registry.catalog.page({}, { limit: 100 }));
await time("registry.candidateNames (400)", () =>
  registry.catalog.candidateNames({}, { limit: 400 }),
);
await time("registry.candidateNames (1000, search)", () =>
  registry.catalog.candidateNames({ q: SEARCH_TERM }, { limit: 1000 }),
);
const candidates = await registry.catalog.page({}, { limit: 100 });
await time("access.filter (100 agents)", () =>
  access.filter(
    principal,
    "viewer",
    candidates.map((a) => `agent:${a.name}`),
  ),
);
const visible = await time("access.list (viewer, agent)", () =>
  access.list(principal, "viewer", "agent"),
);
console.log(`  (${visible.length} visible)`);
const names = visible.map((o) => o.slice(6));
await time("registry.facets (no filter)", () => registry.catalog.facets({}, names));
await time("registry.facets (search + tag)", () =>
  registry.catalog.facets({ q: SEARCH_TERM, tag: FACET_TAG }, names),
);
await time("directory.list (50)", () => services.directory.list(principal, { limit: 50 }));
await time("directory.list (50, search)", () =>
  services.directory.list(principal, { limit: 50, q: SEARCH_TERM }),
);
await time("directory.list (50, facets)", () =>
  services.directory.list(principal, { limit: 50, facets: true }),
);
await time("directory.list (24, search, facets)", () =>
  services.directory.list(principal, { limit: 24, q: SEARCH_TERM, facets: true }),
);
await authorizer.close();
await db.close();
console.log(`data: ${dir}`);
