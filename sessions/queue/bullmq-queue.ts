import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { DrainHandler, DrainJob, RunQueue } from "./run-queue.js";

const QUEUE_NAME = "switchboard-runs";

/**
 * Drain jobs on Redis with BullMQ: web processes add them, `switchboard worker` processes
 * take them. BullMQ wants connections of its own (`maxRetriesPerRequest: null` for the
 * blocking ones), so this opens them from the URL rather than sharing the app's client.
 */
export class BullMqQueue implements RunQueue {
  readonly kind = "bullmq";
  private readonly queue: Queue<DrainJob>;
  private worker: Worker<DrainJob> | undefined;

  constructor(
    private readonly redisUrl: string,
    /** Keys start with this; tests use one per test so they do not share jobs. */
    private readonly prefix = "switchboard",
  ) {
    this.queue = new Queue<DrainJob>(QUEUE_NAME, {
      connection: new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true }),
      prefix,
      defaultJobOptions: {
        removeOnComplete: true,
        removeOnFail: 1000,
        // Only an infrastructure failure (database down) throws out of a drain; try again.
        attempts: 5,
        backoff: { type: "exponential", delay: 1000 },
      },
    });
  }

  async enqueue(job: DrainJob, jobId: string): Promise<void> {
    await this.queue.add("drain", job, { jobId });
  }

  async consume(handler: DrainHandler, concurrency: number): Promise<void> {
    this.worker = new Worker<DrainJob>(QUEUE_NAME, (job) => handler(job.data), {
      connection: new Redis(this.redisUrl, { maxRetriesPerRequest: null }),
      prefix: this.prefix,
      concurrency,
    });
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
