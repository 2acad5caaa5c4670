import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Knex } from "knex";
import type { Logger } from "pino";
import { OutageLog } from "../../core/index.js";
import type { AgentTracer } from "../../governance/index.js";
import { BudgetAdmission, Ledger } from "../../governance/index.js";
import type { RuntimeRegistry } from "../../runtimes/index.js";
import type { DrainJob, RunQueue } from "../queue/run-queue.js";
import type { Run } from "../records.js";
import type { RunSignals } from "../signals/run-signals.js";
import { type RunLimits, RunSlots, type RunWait } from "../store/run-slots.js";
import { RunStore } from "../store/run-store.js";
import { SessionLeases } from "../store/session-leases.js";
import { SessionStore } from "../store/session-store.js";
import type { AgentSource } from "./agent-source.js";
import { PersonIds } from "./person-ids.js";
import { type AgentSecrets, type RunControl, RunExecutor } from "./run-executor.js";
import type { RunKeys } from "./run-keys.js";

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
  /** Runs in progress per person and per agent, across every worker. */
  limits: RunLimits;
  leaseMs: number;
  maxAttempts: number;
  retryBackoffMs: number;
  defaultTimeoutMs: number;
  /** The embedded database has one process: leases found on start were its own, freed at once. */
  singleProcess: boolean;
  /** Set when a model proxy is configured: each attempt gets a key of its own. */
  runKeys?: RunKeys | undefined;
  /**
   * How often a running run's proxy spend is checked against its per-run limit and budgets
   * between the runtime's usage reports (each report is checked at once); default 5 s.
   */
  costCheckIntervalMs?: number | undefined;
  /** Set when traces are exported: each ended run is a span. */
  tracer?: AgentTracer | undefined;
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
  private readonly slots: RunSlots;
  private readonly executor: RunExecutor;
  private readonly controls = new Map<string, RunControl>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopCancelListener: (() => void) | undefined;
  private stopping = false;
  /**
   * The sweeper's and the lease heartbeats' database failures: one line when the database
   * goes away, one when it is back, not one per session each second.
   */
  private readonly outages: OutageLog;

  constructor(private readonly options: RunEngineOptions) {
    this.outages = new OutageLog(options.logger, "database (runs engine)");
    this.runs = new RunStore(options.knex);
    this.leases = new SessionLeases(options.knex, options.leaseMs);
    this.slots = new RunSlots(options.knex, this.runs, this.leases, options.limits);
    this.executor = new RunExecutor({
      runs: this.runs,
      slots: this.slots,
      sessions: new SessionStore(options.knex),
      personIds: new PersonIds(options.knex),
      ledger: new Ledger(options.knex),
      budgets: new BudgetAdmission(options.knex),
      costCheckIntervalMs: options.costCheckIntervalMs ?? 5_000,
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
      tracer: options.tracer,
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
   * Queues a drain for every session with unfinished runs that nobody holds, and for those
   * whose waiting run fits now (a wake-up that was lost, or a restart). Sessions whose run
   * waits for a place are left alone until it fits. Job ids are per interval, so a sweep
   * does not pile up jobs for a session already waiting.
   */
  async sweep(settleMs: number): Promise<number> {
    if (this.stopping) return 0;
    try {
      const sessions = await this.leases.orphaned(settleMs);
      const bucket = Math.floor(Date.now() / Math.max(1_000, this.options.leaseMs));
      for (const sessionId of sessions) {
        await this.options.queue.enqueue({ sessionId }, `sweep-${sessionId}-${bucket}`);
      }
      this.outages.restored();
      if (sessions.length > 0)
        this.options.logger.info({ sessions: sessions.length }, "picked up unfinished runs");
      const woken = await this.slots.wakeable(undefined);
      await this.wake(woken, `sweep-${bucket}`);
      return sessions.length + woken.length;
    } catch (error) {
      this.outages.failed(error, { doing: "sweeping for unfinished runs" });
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
      const ended = await this.drainHeld(sessionId);
      if (ended === "lease_lost") return;
      await this.leases.release(sessionId, this.workerId);
      // A waiting run is woken when a place frees (or by the sweeper), not looked at again.
      if (ended === "waiting") return;
      if (!(await this.runs.nextUnfinished(sessionId))) return;
    }
  }

  /**
   * Runs the session's runs in order while the lease holds. Ends "waiting" when the next
   * run must wait for a place (this worker's slot goes back to the queue meanwhile), or
   * "lease_lost" when another worker has the session now.
   */
  private async drainHeld(sessionId: string): Promise<"drained" | "waiting" | "lease_lost"> {
    let leaseLost = false;
    let current: { runId: string; control: RunControl } | undefined;
    const heartbeat = setInterval(async () => {
      try {
        const renewed = await this.leases.renew(sessionId, this.workerId);
        this.outages.restored();
        if (!renewed) {
          leaseLost = true;
          current?.control.abort("lease_lost");
          return;
        }
        if (current && (await this.runs.isCancelRequested(current.runId))) {
          current.control.abort("cancelled");
        }
      } catch (error) {
        this.outages.failed(error, { doing: "renewing a session lease", session_id: sessionId });
      }
    }, this.heartbeatMs);
    try {
      while (!leaseLost && !this.stopping) {
        const run = await this.runs.nextUnfinished(sessionId);
        if (!run) break;
        const control = newControl();
        current = { runId: run.id, control };
        this.controls.set(run.id, control);
        let wait: RunWait | undefined;
        try {
          wait = await this.executor.execute(run, control);
        } finally {
          this.controls.delete(run.id);
          current = undefined;
        }
        if (wait) {
          await this.wake(wait.aheadSessionIds ?? [], `ahead-${run.id}`);
          return "waiting";
        }
        await this.wakeAfter(run);
      }
    } finally {
      clearInterval(heartbeat);
    }
    return leaseLost ? "lease_lost" : "drained";
  }

  /** The run's place is free: the waiting runs of its person or agent that fit go next. */
  private async wakeAfter(run: Run): Promise<void> {
    try {
      const scope = { userId: run.userId, agentId: run.agentId };
      await this.wake(await this.slots.wakeable(scope, 20), `freed-${run.id}`);
    } catch (error) {
      // The sweeper wakes them on its next round.
      this.options.logger.warn({ err: error, run_id: run.id }, "could not wake waiting runs");
    }
  }

  /** Queues a drain for each session; `tag` makes the job ids new for this wake-up. */
  private async wake(sessionIds: readonly string[], tag: string): Promise<void> {
    for (const sessionId of sessionIds) {
      try {
        await this.options.queue.enqueue({ sessionId }, `wake-${sessionId}-${tag}`);
      } catch (error) {
        // The sweeper wakes it on its next round.
        this.options.logger.warn({ err: error, session_id: sessionId }, "could not wake a run");
      }
    }
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
