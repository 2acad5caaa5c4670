import type { Knex } from "knex";
import type { Logger } from "pino";
import { OutageLog } from "../../core/index.js";
import { bookLedgerEntries } from "./ledger.js";
import type { LedgerEntry } from "./ledger-entry.js";

export interface LedgerWriterOptions {
  knex: Knex;
  logger: Logger;
  /** Rows per insert (default: see `defaultBatchSize`). */
  batchSize?: number;
  /** How often queued rows are written. */
  flushIntervalMs?: number;
  /** Rows kept while the database is down; past it the oldest are dropped (and logged). */
  maxQueued?: number;
  /**
   * Rows a caller holds until a write (the proxy adds its calls up between two): taken at
   * every flush, timed or asked for, and queued before the queue is written.
   */
  collect?: () => LedgerEntry[];
}

/**
 * Rows per insert, chosen so that one never holds the event loop for more than a few ms.
 * On PostgreSQL the insert runs in the server, and this thread only builds its parameters
 * (about 1.3 µs a row: under a millisecond for 500), then waits on the socket, letting the
 * loop turn between batches. PGlite runs the insert on this thread, at about 45 µs a row,
 * so it gets smaller batches; its knex client lets the loop turn between statements.
 */
function defaultBatchSize(knex: Knex): number {
  // PgliteKnexClient (app/db/pglite-client.ts) names its driver "pglite".
  return (knex.client as { driverName?: string }).driverName === "pglite" ? 100 : 500;
}

/**
 * Writes ledger entries in batches, off the caller's path: `record` only queues. A failed
 * write (the database restarting) keeps the rows and is retried on the next tick, however
 * long the outage (the dedupe key makes a retry of a batch that did land harmless; past
 * `maxQueued` the oldest rows go, and say so); `close` writes what is left.
 */
export class LedgerWriter {
  private queue: LedgerEntry[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly batchSize: number;
  private readonly maxQueued: number;
  /** One line when writes start failing, one when they succeed again; not one per tick. */
  private readonly outages: OutageLog;

  constructor(private readonly options: LedgerWriterOptions) {
    this.outages = new OutageLog(options.logger, "ledger writes");
    this.batchSize = options.batchSize ?? defaultBatchSize(options.knex);
    this.maxQueued = options.maxQueued ?? 100_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  get pending(): number {
    return this.queue.length;
  }

  record(entry: LedgerEntry): void {
    this.queue.push(entry);
    if (this.queue.length > this.maxQueued) {
      const dropped = this.queue.splice(0, this.queue.length - this.maxQueued);
      this.options.logger.error(
        { dropped: dropped.length },
        "ledger queue full: oldest entries dropped",
      );
    }
  }

  /** Writes everything queued now; resolves once written or once the attempt failed. */
  flush(): Promise<void> {
    this.collect();
    this.flushing ??= this.writeQueued().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private collect(): void {
    const collected = this.options.collect?.();
    if (collected) for (const entry of collected) this.record(entry);
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await bookLedgerEntries(this.options.knex, batch);
        this.queue.splice(0, batch.length);
        this.outages.restored();
      } catch (error) {
        this.outages.failed(error, { queued: this.queue.length });
        return;
      }
    }
  }

  /** Stops the timer and writes what is queued, retrying a few times. */
  async close(attempts = 3): Promise<void> {
    clearInterval(this.timer);
    this.collect();
    for (let i = 0; i < attempts && this.queue.length > 0; i += 1) {
      await this.flush();
      if (this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 200 * (i + 1)));
    }
    if (this.queue.length > 0) {
      this.options.logger.error(
        { lost: this.queue.length },
        "ledger entries not written at shutdown",
      );
    }
  }
}

/** Spend so far per API key (decimal strings summed as numbers: fine for budget checks). */
export async function spendByApiKey(knex: Knex, apiKeyIds: string[]): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  if (apiKeyIds.length === 0) return totals;
  const rows = (await knex("ledger")
    .select("api_key_id")
    .sum({ total: "cost_usd" })
    .whereIn("api_key_id", apiKeyIds)
    .groupBy("api_key_id")) as { api_key_id: string; total: string | null }[];
  for (const row of rows) totals.set(row.api_key_id, Number(row.total ?? 0));
  return totals;
}
