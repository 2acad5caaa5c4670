import { createRequire } from "node:module";
import type { PGlite, Results } from "@electric-sql/pglite";
import type { Knex } from "knex";
import { LoopSlice } from "./loop-slice.js";

/**
 * A knex client for PGlite (PostgreSQL compiled to WASM, in this process). It is knex's own
 * PostgreSQL client with the connection swapped: the "connection" is the one PGlite
 * instance, so all SQL generation, migrations and transactions stay exactly as on
 * PostgreSQL. PGlite has one session, so the pool must hold a single connection.
 */

const require = createRequire(import.meta.url);
// knex ships CommonJS without type declarations for its dialect classes.
const PostgresClient = require("knex/lib/dialects/postgres/index.js") as new (
  config: Knex.Config,
) => object;

interface QueryObject {
  sql: string;
  bindings?: unknown[];
  response?: unknown;
}

/** The pieces of pg's result that knex's PostgreSQL client reads. */
function asPgResult(result: Results) {
  return {
    rows: result.rows,
    rowCount: result.affectedRows ?? result.rows.length,
    // A query with columns answers like a SELECT, whatever its first keyword (WITH, RETURNING).
    command: result.fields.length > 0 ? "SELECT" : ((result as { command?: string }).command ?? ""),
    fields: result.fields,
  };
}

const baseAcquireConnection = (
  PostgresClient.prototype as { acquireConnection(this: unknown): Promise<unknown> }
).acquireConnection;

/**
 * Queries leave room for HTTP requests (see LoopSlice). One for the thread, not a field:
 * knex runs a transaction's queries on a copy of the client made from its prototype.
 */
const loopSlice = new LoopSlice(5);

export class PgliteKnexClient extends PostgresClient {
  private readonly pglite: PGlite;

  constructor(config: Knex.Config & { pglite: PGlite }) {
    super({ ...config, client: "pg", connection: {}, pool: { min: 1, max: 1 } });
    this.pglite = config.pglite;
    // knex sets these from the config's `client`; keep the PostgreSQL dialect's name.
    Object.assign(this, { dialect: "postgresql", driverName: "pglite" });
  }

  _driver(): object {
    return {};
  }

  async acquireRawConnection(): Promise<PGlite> {
    await this.pglite.waitReady;
    Object.assign(this, { version: "17" });
    return this.pglite;
  }

  async destroyRawConnection(): Promise<void> {
    // The PGlite instance outlives knex's pool; whoever opened it closes it.
  }

  /**
   * Yields (see LoopSlice) before taking the one connection, never while holding it: a
   * yield inside a query left the database idle for a turn of the loop, and the embedded
   * database is what limits how many mentions a second it can take.
   */
  async acquireConnection(): Promise<unknown> {
    await loopSlice.yieldIfLong();
    return baseAcquireConnection.call(this);
  }

  async _query(connection: PGlite, obj: QueryObject): Promise<QueryObject> {
    const bindings = obj.bindings ?? [];
    if (bindings.length > 0) {
      obj.response = asPgResult(await connection.query(obj.sql, bindings));
    } else {
      // Without parameters, use the simple protocol so migrations may send several statements.
      const results = await connection.exec(obj.sql);
      const last = results.at(-1);
      obj.response = asPgResult(last ?? { rows: [], fields: [], affectedRows: 0 });
    }
    return obj;
  }

  _stream(): never {
    throw new Error("Streaming queries are not supported on the embedded database.");
  }
}
