import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import knex, { type Knex } from "knex";
import pg from "pg";
import { DataDirLock } from "./data-dir-lock.js";
import { PgliteKnexClient } from "./pglite-client.js";
import { sharedParsers } from "./types.js";

export type DatabaseKind = "postgres" | "pglite";

/** The process's database: knex over PostgreSQL, or over the embedded PGlite. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly knex: Knex;
  /** Set for PostgreSQL: migrations take their advisory lock on a connection of their own. */
  readonly url: string | undefined;
  /** Answers when the database takes a query; throws otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; unset opens PGlite under `dataDir`. */
  url?: string | undefined;
  dataDir: string;
  poolMax?: number;
}

const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    return sharedParsers[oid] ?? pg.types.getTypeParser(oid, format);
  },
};

function openPostgres(url: string, poolMax: number): Database {
  const db = knex({
    client: "pg",
    connection: { connectionString: url, types: pgTypes } as Knex.PgConnectionConfig,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
  });
  return {
    kind: "postgres",
    knex: db,
    url,
    async ping() {
      await db.raw("select 1");
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true });
  // PGlite serves one process; a second one on the same folder would corrupt it.
  const lock = DataDirLock.acquire(join(root, "switchboard.pid"));
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(join(root, "pgdata"), { parsers: sharedParsers });
  } catch (error) {
    lock.release();
    throw error;
  }
  const db = knex({
    client: PgliteKnexClient as unknown as typeof knex.Client,
    pglite,
  } as Knex.Config);
  return {
    kind: "pglite",
    knex: db,
    url: undefined,
    async ping() {
      await db.raw("select 1");
    },
    async close() {
      await db.destroy();
      await pglite.close();
      lock.release();
    },
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options.poolMax ?? 10);
  return openPglite(options.dataDir);
}
