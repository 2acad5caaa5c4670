import { isNotConnectionError, Queue, Worker } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { OutageLog } from "../../core/index.js";
import type { DrainHandler, DrainJob, RunQueue } from "./run-queue.js";

const QUEUE_NAME = "switchboard-runs";
/** Failures of the socket itself, beyond those BullMQ counts as connection errors. */
const SOCKET_ERRORS = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND"]);

export interface BullMqQueueOptions {
  redisUrl: string;
  /** Keys start with this; tests use one per test so they do not share jobs. */
  prefix: string;
  logger: Logger;
  /** How its connections reconnect while Redis is away (the process's one policy). */
  retryStrategy: RedisOptions["retryStrategy"];
}

/**
 * Drain jobs on Redis with BullMQ: web processes add them, `switchboard worker` processes
 * take them. BullMQ wants connections of its own (`maxRetriesPerRequest: null` for the
 * blocking ones), so this opens them from the URL rather than sharing the app's client.
 *
 * While Redis is away, BullMQ reconnects by itself and the worker takes jobs again once it
 * is back; a job lost with Redis's data is not lost work, since the run is in the database
 * and the engine's sweeper queues it again. BullMQ reports connection failures as "error"
 * events on the Queue and the Worker; without a listener it prints them to stderr, so they
 * are logged here, once per outage.
 */
export class BullMqQueue implements RunQueue {
  readonly kind = "bullmq";
  private readonly queue: Queue<DrainJob>;
  private worker: Worker<DrainJob> | undefined;
  private readonly outages: OutageLog;

  constructor(private readonly options: BullMqQueueOptions) {
    this.outages = new OutageLog(options.logger, "run queue (redis)");
    this.queue = new Queue<DrainJob>(QUEUE_NAME, {
      connection: this.connect({ maxRetriesPerRequest: 3, lazyConnect: true }),
      prefix: options.prefix,
      defaultJobOptions: {
        removeOnComplete: true,
        removeOnFail: 1000,
        // Only an infrastructure failure (database down) throws out of a drain; try again.
        attempts: 5,
        backoff: { type: "exponential", delay: 1000 },
      },
    });
    this.queue.on("error", (error) => this.reportError(error));
  }

  /** A lost connection is an outage, logged once; anything else is logged as it comes. */
  private reportError(error: Error): void {
    const code = (error as NodeJS.ErrnoException).code;
    if (!isNotConnectionError(error) || (code && SOCKET_ERRORS.has(code))) {
      this.outages.failed(error);
    } else {
      // E.g. a job Redis lost when it restarted: its run is in the database, where the
      // sweeper finds it, so this is a warning.
      this.options.logger.warn({ err: error }, "run queue error");
    }
  }

  private connect(options: RedisOptions): Redis {
    const redis = new Redis(this.options.redisUrl, {
      ...options,
      retryStrategy: this.options.retryStrategy,
    });
    // Its "error" events reach the Queue or Worker (BullMQ listens); "ready" is heard here.
    redis.on("ready", () => this.outages.restored());
    return redis;
  }

  async enqueue(job: DrainJob, jobId: string): Promise<void> {
    await this.queue.add("drain", job, { jobId });
  }

  async consume(handler: DrainHandler, concurrency: number): Promise<void> {
    this.worker = new Worker<DrainJob>(QUEUE_NAME, (job) => handler(job.data), {
      connection: this.connect({ maxRetriesPerRequest: null }),
      prefix: this.options.prefix,
      concurrency,
    });
    this.worker.on("error", (error) => this.reportError(error));
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
