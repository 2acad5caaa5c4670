import type { Knex } from "knex";
import pg from "pg";
import { type Migration, migrations } from "../../migrations/index.js";
import type { Database } from "./open.js";

/**
 * Runs the schema migrations with knex's migrator, under a PostgreSQL advisory lock so two
 * processes starting at once do not race: the second waits, then finds nothing to do.
 * PGlite needs no lock: its data-dir lock already keeps it to one process.
 */

const TABLE = "knex_migrations";
// Any constant shared by every Switchboard process; "sbmigr" in ASCII.
const ADVISORY_LOCK_KEY = 0x73626d69;

class ListedMigrations implements Knex.MigrationSource<Migration> {
  constructor(private readonly list: readonly Migration[]) {}
  async getMigrations(): Promise<Migration[]> {
    return [...this.list];
  }
  getMigrationName(migration: Migration): string {
    return migration.name;
  }
  async getMigration(migration: Migration): Promise<Knex.Migration> {
    return migration;
  }
}

function migratorConfig(list: readonly Migration[]): Knex.MigratorConfig {
  return { migrationSource: new ListedMigrations(list), tableName: TABLE };
}

async function withMigrationLock<T>(db: Database, work: () => Promise<T>): Promise<T> {
  if (db.kind === "pglite" || !db.url) return work();
  // A connection of its own, outside knex's pool, so a pool of one cannot deadlock.
  const lockClient = new pg.Client({ connectionString: db.url });
  await lockClient.connect();
  try {
    await lockClient.query("select pg_advisory_lock($1)", [ADVISORY_LOCK_KEY]);
    // Holding the advisory lock, nobody else is migrating: a knex lock row left set by a
    // process killed mid-migration is stale, and would otherwise block every start.
    await db.knex.migrate.forceFreeMigrationsLock(migratorConfig(migrations)).catch(() => {});
    return await work();
  } finally {
    await lockClient.query("select pg_advisory_unlock($1)", [ADVISORY_LOCK_KEY]).catch(() => {});
    await lockClient.end();
  }
}

export interface MigrationReport {
  applied: string[];
}

/** Applies every pending migration; returns their names (empty when up to date). */
export async function migrateLatest(
  db: Database,
  list: readonly Migration[] = migrations,
): Promise<MigrationReport> {
  return withMigrationLock(db, async () => {
    const [, applied] = (await db.knex.migrate.latest(migratorConfig(list))) as [number, string[]];
    return { applied };
  });
}

/** Rolls back the newest batch, or every migration with `all`. */
export async function migrateDown(
  db: Database,
  options: { all?: boolean } = {},
  list: readonly Migration[] = migrations,
): Promise<MigrationReport> {
  return withMigrationLock(db, async () => {
    const [, reverted] = (await db.knex.migrate.rollback(
      migratorConfig(list),
      options.all ?? false,
    )) as [number, string[]];
    return { applied: reverted };
  });
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

export async function migrationStatus(
  db: Database,
  list: readonly Migration[] = migrations,
): Promise<MigrationStatus> {
  const [applied, pending] = (await db.knex.migrate.list(migratorConfig(list))) as [
    { name: string }[],
    Migration[],
  ];
  return { applied: applied.map((m) => m.name), pending: pending.map((m) => m.name) };
}
