import type { DrainHandler, DrainJob, RunQueue } from "./run-queue.js";

/**
 * The embedded default's queue: jobs wait in memory and run in this process. Losing them
 * in a crash loses nothing, because the runs are in the database and the sweeper finds
 * them again on start.
 */
export class InProcessQueue implements RunQueue {
  readonly kind = "in-process";
  private readonly waiting = new Map<string, DrainJob>();
  private readonly active = new Set<Promise<void>>();
  private handler: DrainHandler | undefined;
  private concurrency = 1;
  private closed = false;

  async enqueue(job: DrainJob, jobId: string): Promise<void> {
    if (this.closed || this.waiting.has(jobId)) return;
    this.waiting.set(jobId, job);
    this.pump();
  }

  async consume(handler: DrainHandler, concurrency: number): Promise<void> {
    this.handler = handler;
    this.concurrency = concurrency;
    this.pump();
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler || this.closed) return;
    while (this.active.size < this.concurrency && this.waiting.size > 0) {
      const [jobId, job] = this.waiting.entries().next().value as [string, DrainJob];
      this.waiting.delete(jobId);
      const running: Promise<void> = handler(job)
        .catch(() => {
          // The handler logs its own failures; the sweeper retries what it left unfinished.
        })
        .finally(() => {
          this.active.delete(running);
          this.pump();
        });
      this.active.add(running);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting.clear();
    await Promise.allSettled([...this.active]);
  }
}
