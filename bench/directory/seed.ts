/**
 * Loads the dataset straight into a deployment's database (and OpenFGA, when it has one) the
 * way `AgentRegistry.apply` would have left it: agent rows with the registry's columns, the
 * teams the manifests name, and the access tuples. Bulk inserts, not 10,000 API calls.
 */

import { join } from "node:path";
import { migrateLatest, openDatabase } from "../../app/index.js";
import { openAuthorizer, type TupleKey } from "../../authz/index.js";
import { columnsOf } from "../../directory/registry/agent-record.js";
import type { BenchDataset } from "./dataset.js";

export interface SeedTarget {
  /** PostgreSQL URL; unset: PGlite under `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** Tuples go to this OpenFGA server instead of the authz_tuples table. */
  openFgaUrl?: string | undefined;
}

const ROWS_PER_INSERT = 500;
const TUPLES_PER_WRITE = 100;

export async function seed(target: SeedTarget, dataset: BenchDataset): Promise<void> {
  const db = await openDatabase({ url: target.databaseUrl, dataDir: join(target.dataDir, "data") });
  try {
    await migrateLatest(db);
    const knex = db.knex;
    await knex("teams")
      .insert(dataset.teams.map((slug) => ({ slug, name: slug })))
      .onConflict("slug")
      .ignore();
    for (let i = 0; i < dataset.agents.length; i += ROWS_PER_INSERT) {
      const rows = dataset.agents
        .slice(i, i + ROWS_PER_INSERT)
        .map(({ manifest, digest }) => ({ ...columnsOf(manifest, digest), state: "enabled" }));
      await knex("agents").insert(rows);
    }
    if (target.openFgaUrl) {
      await writeToOpenFga(target.openFgaUrl, dataset.tuples, db.knex);
    } else {
      for (let i = 0; i < dataset.tuples.length; i += ROWS_PER_INSERT) {
        const rows = dataset.tuples
          .slice(i, i + ROWS_PER_INSERT)
          .map((t) => ({ object: t.object, relation: t.relation, subject: t.user }));
        await knex("authz_tuples")
          .insert(rows)
          .onConflict(["object", "relation", "subject"])
          .ignore();
      }
    }
    // Fresh statistics, as autovacuum would have gathered on a database that grew over time.
    await knex.raw("analyze");
  } finally {
    await db.close();
  }
}

/** Through the same authorizer `serve` opens, so the store and model are the ones it will find. */
async function writeToOpenFga(
  url: string,
  tuples: TupleKey[],
  knex: Parameters<typeof openAuthorizer>[0]["knex"],
) {
  const authorizer = await openAuthorizer({ openFgaApiUrl: url, knex });
  try {
    const chunks: TupleKey[][] = [];
    for (let i = 0; i < tuples.length; i += TUPLES_PER_WRITE)
      chunks.push(tuples.slice(i, i + TUPLES_PER_WRITE));
    // A few writes in flight at once: OpenFGA takes at most 100 tuples per write.
    const workers = Array.from({ length: 4 }, async () => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) await authorizer.write(chunk);
    });
    await Promise.all(workers);
  } finally {
    await authorizer.close();
  }
}
