import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { RuntimeRegistry } from "../../runtimes/index.js";
import type { DrainJob, RunQueue } from "../queue/run-queue.js";
import type { RunSignals } from "../signals/run-signals.js";
import { RunStore } from "../store/run-store.js";
import { SessionLeases } from "../store/session-leases.js";
import { SessionStore } from "../store/session-store.js";
import type { AgentSource } from "./agent-source.js";
import { type AgentSecrets, type RunControl, RunExecutor } from "./run-executor.js";
import type { RunKeyIssuer } from "./run-keys.js";

export interface RunEngineOptions {
  knex: Knex;
  queue: RunQueue;
  signals: RunSignals;
  agents: AgentSource;
  runtimes: RuntimeRegistry;
  /** The secret resolver for each turn, bound to the turn's agent. */
  secrets: AgentSecrets;
  logger: Logger;
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  retryBackoffMs: number;
  defaultTimeoutMs: number;
  /** The embedded database has one process: leases found on start were its own, freed at once. */
  singleProcess: boolean;
  /** Set when a model proxy is configured: each attempt gets a key of its own. */
  runKeys?: RunKeyIssuer | undefined;
}

/** A worker's name in leases and logs: host, pid and a nonce (pids repeat across restarts). */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

/**
 * The worker side of runs: takes drain jobs from the queue, drains each session under its
 * lease (turns one at a time, in order), and sweeps for sessions whose worker died or whose
 * job was lost. The same engine runs in `switchboard worker` (BullMQ) and in `serve` (the
 * in-process queue).
 */
export class RunEngine {
  readonly workerId = newWorkerId();
  private readonly runs: RunStore;
  private readonly leases: SessionLeases;
  private readonly executor: RunExecutor;
  private readonly controls = new Map<string, RunControl>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopCancelListener: (() => void) | undefined;
  private stopping = false;

  constructor(private readonly options: RunEngineOptions) {
    this.runs = new RunStore(options.knex);
    this.leases = new SessionLeases(options.knex, options.leaseMs);
    this.executor = new RunExecutor({
      runs: this.runs,
      sessions: new SessionStore(options.knex),
      agents: options.agents,
      runtimes: options.runtimes,
      signals: options.signals,
      secrets: options.secrets,
      logger: options.logger,
      workerId: this.workerId,
      maxAttempts: options.maxAttempts,
      retryBackoffMs: options.retryBackoffMs,
      defaultTimeoutMs: options.defaultTimeoutMs,
      runKeys: options.runKeys,
    });
  }

  private get heartbeatMs(): number {
    return Math.max(200, Math.min(Math.floor(this.options.leaseMs / 3), 2_000));
  }

  async start(): Promise<void> {
    this.stopCancelListener = this.options.signals.onCancel((runId) => {
      this.controls.get(runId)?.abort("cancelled");
    });
    if (this.options.singleProcess) {
      const freed = await this.leases.releaseAll();
      if (freed > 0)
        this.options.logger.info(
          { sessions: freed },
          "resuming runs left unfinished by the last stop",
        );
    }
    await this.options.queue.consume((job) => this.drain(job), this.options.concurrency);
    await this.sweep(this.options.singleProcess ? 0 : 2_000);
    const every = Math.max(500, Math.floor(this.options.leaseMs / 2));
    this.sweeper = setInterval(() => void this.sweep(2_000), every);
    this.sweeper.unref();
  }

  /**
   * Queues a drain for every session with unfinished runs that nobody holds. Job ids are
   * per interval, so a sweep does not pile up jobs for a session already waiting.
   */
  async sweep(settleMs: number): Promise<number> {
    if (this.stopping) return 0;
    try {
      const sessions = await this.leases.orphaned(settleMs);
      const bucket = Math.floor(Date.now() / Math.max(1_000, this.options.leaseMs));
      for (const sessionId of sessions) {
        await this.options.queue.enqueue({ sessionId }, `sweep-${sessionId}-${bucket}`);
      }
      if (sessions.length > 0)
        this.options.logger.info({ sessions: sessions.length }, "picked up unfinished runs");
      return sessions.length;
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        "could not sweep for unfinished runs; will try again",
      );
      return 0;
    }
  }

  /**
   * Drains one session: runs its unfinished runs in order while holding its lease. After
   * releasing the lease it looks once more, because a run added while it was finishing
   * had its own job turned away by the lease.
   */
  async drain(job: DrainJob): Promise<void> {
    const { sessionId } = job;
    while (!this.stopping) {
      if (!(await this.leases.acquire(sessionId, this.workerId))) return;
      const lost = await this.drainHeld(sessionId);
      if (lost) return;
      await this.leases.release(sessionId, this.workerId);
      if (!(await this.runs.nextUnfinished(sessionId))) return;
    }
  }

  /** Resolves true when the lease was lost (another worker has the session now). */
  private async drainHeld(sessionId: string): Promise<boolean> {
    let leaseLost = false;
    let current: { runId: string; control: RunControl } | undefined;
    const heartbeat = setInterval(async () => {
      try {
        if (!(await this.leases.renew(sessionId, this.workerId))) {
          leaseLost = true;
          current?.control.abort("lease_lost");
          return;
        }
        if (current && (await this.runs.isCancelRequested(current.runId))) {
          current.control.abort("cancelled");
        }
      } catch (error) {
        this.options.logger.warn(
          { err: error, session_id: sessionId },
          "could not renew a session lease",
        );
      }
    }, this.heartbeatMs);
    try {
      while (!leaseLost && !this.stopping) {
        const run = await this.runs.nextUnfinished(sessionId);
        if (!run) break;
        const control = newControl();
        current = { runId: run.id, control };
        this.controls.set(run.id, control);
        try {
          await this.executor.execute(run, control);
        } finally {
          this.controls.delete(run.id);
          current = undefined;
        }
      }
    } finally {
      clearInterval(heartbeat);
    }
    return leaseLost;
  }

  /** Stops taking jobs; runs in hand finish within the process's shutdown budget. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.stopCancelListener?.();
    await this.options.queue.close();
  }
}

function newControl(): RunControl {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    abort: (reason) => {
      if (!controller.signal.aborted) controller.abort(reason);
    },
  };
}
