import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import pg from "pg";
import type { TupleKey } from "../types.js";

/**
 * Keeps every process's in-memory tuples current when several share one PostgreSQL
 * database (web replicas, workers) without an OpenFGA server. A write announces its changes
 * with NOTIFY inside its transaction, so they go out exactly when it commits, in commit
 * order; the other processes LISTEN and apply them. After a lost connection a process
 * reloads everything, since it may have missed changes.
 */

const CHANNEL = "switchboard_authz_tuples";
// NOTIFY payloads must stay under 8000 bytes.
const MAX_PAYLOAD = 7000;

export interface TupleChanges {
  written: TupleKey[];
  deleted: TupleKey[];
}

interface Message extends TupleChanges {
  origin: string;
}

export class TupleChangeFeed {
  /** Identifies this process's own notifications, which it has already applied. */
  readonly origin = randomUUID();
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly onChanges: (changes: TupleChanges) => void,
    private readonly onResync: () => Promise<void>,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Announces changes from inside the writing transaction. */
  async publish(trx: Knex.Transaction, changes: TupleChanges): Promise<void> {
    for (const payload of this.payloads(changes)) {
      await trx.raw("select pg_notify(?, ?)", [CHANNEL, payload]);
    }
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on("notification", (message) => {
      if (!message.payload) return;
      const parsed = JSON.parse(message.payload) as Message;
      if (parsed.origin !== this.origin) this.onChanges(parsed);
    });
    client.on("error", (error) => this.reconnect(error));
    client.on("end", () => this.reconnect(new Error("authorization change feed disconnected")));
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
    this.client = client;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => {});
  }

  private reconnect(error: Error): void {
    if (this.closed || this.retry) return;
    this.onError(error);
    this.client?.removeAllListeners();
    this.client = undefined;
    this.retry = setTimeout(async () => {
      this.retry = undefined;
      try {
        await this.start();
        await this.onResync();
      } catch (failure) {
        this.reconnect(failure as Error);
      }
    }, 1_000);
    this.retry.unref();
  }

  private *payloads(changes: TupleChanges): Generator<string> {
    let current: Message = { origin: this.origin, written: [], deleted: [] };
    let size = 100;
    const flush = () => {
      const payload = JSON.stringify(current);
      current = { origin: this.origin, written: [], deleted: [] };
      size = 100;
      return payload;
    };
    for (const [list, key] of [
      [changes.deleted, "deleted"],
      [changes.written, "written"],
    ] as const) {
      for (const tuple of list) {
        const tupleSize = JSON.stringify(tuple).length + 1;
        if (size + tupleSize > MAX_PAYLOAD) yield flush();
        current[key].push(tuple);
        size += tupleSize;
      }
    }
    if (current.written.length > 0 || current.deleted.length > 0) yield flush();
  }
}
