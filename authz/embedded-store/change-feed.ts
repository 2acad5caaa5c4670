import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import pg from "pg";
import { backoffDelay, OutageLog, type OutageLogger } from "../../core/index.js";
import { decodeChanges, encodeChanges, type TupleChanges } from "./feed-messages.js";

export type { TupleChanges } from "./feed-messages.js";

/**
 * Keeps every process's in-memory tuples current when several share one PostgreSQL
 * database (web replicas, workers) without an OpenFGA server. A write announces its changes
 * with NOTIFY inside its transaction, so they go out exactly when it commits, in commit
 * order; the other processes LISTEN and apply them.
 *
 * The LISTEN connection outlives any one server: when it is lost (PostgreSQL restarting, a
 * backend terminated) the feed connects again, backing off, and then reloads everything,
 * since notifications sent meanwhile are gone.
 */

const CHANNEL = "switchboard_authz_tuples";

export interface ChangeFeedOptions {
  databaseUrl: string;
  onChanges: (changes: TupleChanges) => void;
  /** Called once listening again after a lost connection: reload what may have been missed. */
  onResync: () => Promise<void>;
  logger?: OutageLogger | undefined;
}

const silent: OutageLogger = { warn() {}, info() {} };

export class TupleChangeFeed {
  /** Identifies this process's own notifications, which it has already applied. */
  readonly origin = randomUUID();
  /** The client listening now; undefined while (re)connecting. */
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private attempts = 0;
  private readonly outages: OutageLog;

  constructor(private readonly options: ChangeFeedOptions) {
    this.outages = new OutageLog(options.logger ?? silent, "authorization change feed");
  }

  /** Why the feed is not listening, while it is not (for /readyz). */
  get failure(): string | undefined {
    if (this.closed) return "closed";
    return this.client ? undefined : (this.outages.failure ?? "connecting");
  }

  /** Announces changes from inside the writing transaction. */
  async publish(trx: Knex.Transaction, changes: TupleChanges): Promise<void> {
    for (const payload of encodeChanges(this.origin, changes)) {
      await trx.raw("select pg_notify(?, ?)", [CHANNEL, payload]);
    }
  }

  /** Starts listening; fails if PostgreSQL cannot be reached now (start-up says so). */
  async start(): Promise<void> {
    this.client = await this.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /** A client listening on the channel. */
  private async listen(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: "switchboard authz change feed",
    });
    // For the client's whole life, never removed: pg emits "error" more than once for one
    // loss (the server's FATAL message, then the socket's end), and an "error" event with
    // no listener ends the process.
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, new Error("the connection ended")));
    client.on("notification", (message) => {
      if (client === this.client && message.payload) this.receive(message.payload);
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  /** Another process's changes; a payload that is not one of ours is ignored. */
  private receive(payload: string): void {
    const message = decodeChanges(payload);
    if (message && message.origin !== this.origin) {
      this.options.onChanges({ written: message.written, deleted: message.deleted });
    }
  }

  /** The listening client failed: drop it (later events from it are ignored) and reconnect. */
  private lost(client: pg.Client, error: Error): void {
    if (client !== this.client || this.closed) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.outages.failed(error);
    this.reconnect();
  }

  private reconnect(): void {
    if (this.closed || this.retry) return;
    this.attempts += 1;
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        void this.resume();
      },
      backoffDelay(this.attempts, { firstMs: 250, maxMs: 5_000 }),
    );
    this.retry.unref();
  }

  private async resume(): Promise<void> {
    let client: pg.Client | undefined;
    try {
      client = await this.listen();
      if (this.closed) {
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
      await this.options.onResync();
      this.attempts = 0;
      this.outages.restored();
    } catch (error) {
      if (this.closed) return;
      this.outages.failed(error);
      if (client && client === this.client) {
        this.client = undefined;
        client.end().catch(() => {});
      }
      this.reconnect();
    }
  }
}
