import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import knex, { type Knex } from "knex";
import pg from "pg";
import type { Logger } from "../logger.js";
import { DataDirLock, LOCK_FILE } from "./data-dir-lock.js";
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
  /** Where knex's own warnings go (a pooled connection found dead); unset: stderr. */
  logger?: Logger | undefined;
}

const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    return sharedParsers[oid] ?? pg.types.getTypeParser(oid, format);
  },
};

/**
 * knex's warnings as JSON log lines instead of coloured text on stderr. A backend terminated
 * under an idle pool makes one warning per pooled connection, all alike: the same text within
 * a few seconds is written once.
 */
function knexLog(logger: Logger): Knex.Config["log"] {
  let last = { message: "", at: 0 };
  const once = (level: "warn" | "error", message: unknown) => {
    // Some carry their error's stack after the first line; the first line says it.
    const text = String(message).split("\n")[0] ?? "";
    if (text === last.message && Date.now() - last.at < 10_000) return;
    last = { message: text, at: Date.now() };
    logger[level]({ source: "knex" }, text);
  };
  return {
    warn: (message) => once("warn", message),
    error: (message) => once("error", message),
    deprecate: (message) => logger.warn({ source: "knex" }, String(message)),
    debug: (message) => logger.debug({ source: "knex", message }, "knex debug"),
  };
}

function openPostgres(url: string, poolMax: number, logger: Logger | undefined): Database {
  // An idle pooled connection whose backend ends is marked dead by knex's own "error"
  // listener and replaced when next taken: a restarted PostgreSQL costs the queries in
  // flight, nothing more.
  const db = knex({
    client: "pg",
    connection: { connectionString: url, types: pgTypes } as Knex.PgConnectionConfig,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
    ...(logger ? { log: knexLog(logger) } : {}),
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
  // Private to its owner: it holds the database, the secret store's key file and the admin
  // socket, whose safety rests on no one else being able to write here (see app/admin-socket).
  mkdirSync(root, { recursive: true, mode: 0o700 });
  // PGlite serves one process; a second one on the same folder would corrupt it.
  const lock = DataDirLock.acquire(join(root, LOCK_FILE));
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
  if (options.url) return openPostgres(options.url, options.poolMax ?? 10, options.logger);
  return openPglite(options.dataDir);
}
