/**
 * What every long-lived connection (PostgreSQL's LISTEN client, Redis) does while its
 * server is away: waits longer after each failed try, with jitter so a fleet of processes
 * does not knock on a restarted server all in the same millisecond, and says so in the log
 * once per distinct failure rather than once per try.
 */

export interface BackoffOptions {
  /** Wait before the first retry. */
  firstMs?: number;
  /** Longest wait between tries. */
  maxMs?: number;
}

/**
 * Wait before retry number `attempt` (1 for the first): doubled each time up to `maxMs`,
 * then a random share of it between a half and the whole ("equal jitter").
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const first = options.firstMs ?? 250;
  const max = options.maxMs ?? 10_000;
  const ceiling = Math.min(max, first * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** A connection that says when it fails and when it is ready again, as ioredis's clients do. */
export interface WatchedConnection {
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "ready", listener: () => void): unknown;
}

/** The part of a logger this needs; pino's satisfies it. */
export interface OutageLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/**
 * The log of one dependency's outages: the first failure and each different one after it
 * as a warning, the recovery once. A server away for an hour writes two lines, not one per
 * reconnect attempt.
 */
export class OutageLog {
  private current: string | undefined;

  constructor(
    private readonly logger: OutageLogger,
    /** Names the connection in every line, e.g. "redis" or "authorization change feed". */
    private readonly connection: string,
  ) {}

  /**
   * Logs `connection`'s "error" events as failures and its "ready" events as recovery. The
   * listener also keeps an "error" from going unhandled, which ioredis would print to stderr
   * and a plain EventEmitter would end the process with.
   */
  watch<T extends WatchedConnection>(connection: T): T {
    connection.on("error", (error) => this.failed(error));
    connection.on("ready", () => this.restored());
    return connection;
  }

  /** Why the connection is down, while it is. */
  get failure(): string | undefined {
    return this.current;
  }

  /** `fields` add context to the line, when one is written. */
  failed(error: unknown, fields: object = {}): void {
    const message = error instanceof Error ? error.message || error.name : String(error);
    if (message === this.current) return;
    const first = this.current === undefined;
    this.current = message;
    this.logger.warn(
      { ...fields, err: error, connection: this.connection },
      first ? `${this.connection}: unavailable; retrying` : `${this.connection}: still unavailable`,
    );
  }

  restored(): void {
    if (this.current === undefined) return;
    this.current = undefined;
    this.logger.info({ connection: this.connection }, `${this.connection}: back`);
  }
}
