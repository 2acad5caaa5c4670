/**
 * A request to drain one session: run its unfinished runs, in order, until none is left.
 * Jobs name sessions rather than runs because turns of one conversation must run one at a
 * time; the session lease (not the queue) makes sure only one worker drains a session.
 */
export interface DrainJob {
  sessionId: string;
  /** The run that prompted the job, when one did (the sweeper's jobs have none). */
  runId?: string;
}

export type DrainHandler = (job: DrainJob) => Promise<void>;

/**
 * Where drain jobs wait: BullMQ on Redis (workers in other processes) or in this process.
 * The same engine consumes both.
 */
export interface RunQueue {
  readonly kind: "bullmq" | "in-process";
  /** Adds a job; a job with the same id already waiting is not added twice. */
  enqueue(job: DrainJob, jobId: string): Promise<void>;
  /** Starts taking jobs, at most `concurrency` at once. */
  consume(handler: DrainHandler, concurrency: number): Promise<void>;
  /** Stops taking jobs and waits for those in hand (up to the caller's shutdown budget). */
  close(): Promise<void>;
}
