import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { MAX_RUN_TIMEOUT_SECONDS } from "../../core/index.js";
import type { AgentTracer, BudgetAdmission, Ledger } from "../../governance/index.js";
import type {
  RuntimeRegistry,
  RuntimeUsage,
  SecretResolver,
  TranscriptMessage,
} from "../../runtimes/index.js";
import type { Run, RunError } from "../records.js";
import type { RunSignals } from "../signals/run-signals.js";
import type { RunSlots, RunWait } from "../store/run-slots.js";
import type { NewRunEvent, RunStore } from "../store/run-store.js";
import type { SessionStore } from "../store/session-store.js";
import type { AgentSource, RunnableAgent } from "./agent-source.js";
import { AttemptKeys } from "./attempt-keys.js";
import { CostWatch } from "./cost-watch.js";
import { EventWriter } from "./event-writer.js";
import { ledgerRows } from "./ledger-rows.js";
import type { PersonIds } from "./person-ids.js";
import { describeFailure, refusalFor, type StopReason } from "./run-failures.js";
import type { RunKeys } from "./run-keys.js";
import { SecretScrubber } from "./secret-scrubber.js";
import { waitingMessage } from "./waiting-message.js";

/**
 * Makes the secret resolver for one turn of an agent: it resolves only what that agent may
 * use, checked when the runtime asks (see secrets/).
 */
export type AgentSecrets = (agent: { id: string; name: string }) => SecretResolver;

export interface ExecutorOptions {
  runs: RunStore;
  /** Where cost is booked and read (governance's ledger). */
  ledger: Ledger;
  /** Budgets, held while a run runs as at its admission. */
  budgets: BudgetAdmission;
  /** How often a running run's proxy spend is checked against its limits between usage reports. */
  costCheckIntervalMs: number;
  slots: RunSlots;
  sessions: SessionStore;
  /** The opaque id each turn's runtime may know its person by (never the email). */
  personIds: PersonIds;
  agents: AgentSource;
  runtimes: RuntimeRegistry;
  signals: RunSignals;
  secrets: AgentSecrets;
  logger: Logger;
  workerId: string;
  maxAttempts: number;
  retryBackoffMs: number;
  defaultTimeoutMs: number;
  /** Set when a model proxy is configured: each attempt gets a key of its own. */
  runKeys?: RunKeys | undefined;
  /** Set when traces are exported (OTEL_EXPORTER_OTLP_ENDPOINT): each ended run is a span. */
  tracer?: AgentTracer | undefined;
}

/** How long after a cancel or timeout a runtime's handle and usage events are still taken. */
const AFTER_STOP_GRACE_MS = 10_000;

/** However the backoff doubles, a try waits no longer than this (and never overflows a timer). */
const MAX_RETRY_DELAY_MS = 5 * 60_000;

/** The wait after failed attempt number `attempt`: the backoff, doubled each time, capped. */
export function retryDelayMs(backoffMs: number, attempt: number): number {
  return Math.min(backoffMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
}

/**
 * A worker dying mid-turn (a deploy, kill -9) is not the runtime failing: a run gets this
 * many tries beyond RUN_MAX_ATTEMPTS before it is given up as `worker_lost`, so a setting
 * of 1 ("do not retry the runtime") still recovers from a restart.
 */
const WORKER_LOSSES_FORGIVEN = 2;

/** The attempt's own control: the drainer aborts it when the lease is lost or a cancel arrives. */
export interface RunControl {
  abort(reason: StopReason): void;
  readonly signal: AbortSignal;
}

class LeaseLost extends Error {}

interface TurnResult {
  output: string;
}

/**
 * Runs one run to its end: attempts with backoff while the runtime fails in a way that may
 * pass, then one closing transaction (status, output, transcript, ledger). Called by the
 * drainer while it holds the session's lease.
 */
export class RunExecutor {
  private readonly keys: AttemptKeys;

  constructor(private readonly options: ExecutorOptions) {
    this.keys = new AttemptKeys(options.runKeys, options.logger);
  }

  /**
   * Runs the run, or answers why it waits: a queued run starts only when its person and
   * agent have a place free (RunSlots); a waiting one is told so in its timeline and left
   * for the drainer to give its slot back.
   */
  async execute(run: Run, control: RunControl): Promise<RunWait | undefined> {
    const { runs, logger } = this.options;
    const log = logger.child({ run_id: run.id, session_id: run.sessionId });
    let attempt = run.attempt;

    // A run still `running` here was its worker's when it died (or stalled past its lease).
    // It keeps the place it had; the keys that attempt was handed die with it.
    const recovered = run.status === "running";
    if (recovered) await this.keys.revokeLeftOver(run);
    if (
      recovered &&
      (run.cancelRequested || attempt >= this.options.maxAttempts + WORKER_LOSSES_FORGIVEN)
    ) {
      const cancelled = run.cancelRequested;
      await this.close(run, attempt, [], {
        status: cancelled ? "cancelled" : "failed",
        error: cancelled
          ? undefined
          : {
              code: "worker_lost",
              message: `The worker running this agent stopped ${attempt} times while running it; the run was given up.`,
            },
      });
      return undefined;
    }

    const agent = await this.options.agents.byId(run.agentId);
    const refusal = agent
      ? refusalFor(agent)
      : { code: "agent_not_found", message: "This agent no longer exists." };
    attempt += 1;
    let waited = false;
    if (recovered || refusal || !agent) {
      // A refused run needs no place: it ends at once.
      if (!(await runs.startAttempt(run.id, attempt, this.options.workerId))) return undefined;
    } else {
      const slots = this.options.slots;
      const claim = await slots.claim(run, attempt, this.options.workerId, (wait) =>
        waitingMessage(wait, slots.limits, agent.name),
      );
      if (claim.outcome === "gone") return undefined;
      if (claim.outcome === "waiting") {
        if (claim.announced) this.options.signals.eventsAdded(run.id);
        return claim.wait;
      }
      waited = claim.waited;
    }
    const writer = new EventWriter(
      runs,
      this.options.signals,
      run.id,
      // A run that started at once has exactly its "queued" event; others are read.
      run.status === "queued" && run.attempt === 0 && !waited && !refusal
        ? 1
        : await runs.lastSeq(run.id),
      (error) => {
        log.warn({ err: error }, "could not write the run's events; stopping this attempt");
        control.abort("lease_lost");
      },
    );
    writer.add("run.status", {
      status: "running",
      attempt,
      ...(recovered ? { recovered: true } : {}),
    });

    if (refusal || !agent) {
      await this.close(run, attempt, await writer.take(), { status: "failed", error: refusal });
      return undefined;
    }

    // What every attempt's runtime reported: all of it is booked to the run, a failed try's too.
    const usage: RuntimeUsage[] = [];
    // Every value this run's turns resolve is kept out of what it stores and shows.
    const scrubber = new SecretScrubber();
    let costStop: string | undefined;
    const stopForCost = (message: string) => {
      costStop = message;
      control.abort("cost_limit");
    };
    for (;;) {
      try {
        const result = await this.turn(
          run,
          agent,
          attempt,
          writer,
          control,
          scrubber,
          usage,
          stopForCost,
        );
        await this.close(
          run,
          attempt,
          await writer.take([{ type: "message", data: { text: result.output } }]),
          {
            status: "succeeded",
            output: result.output,
            usage,
            agent,
          },
        );
        return undefined;
      } catch (error) {
        if (error instanceof LeaseLost) return undefined;
        const stopped = control.signal.aborted ? (control.signal.reason as StopReason) : undefined;
        if (stopped === "lease_lost" || stopped === "shutdown") return undefined;
        if (stopped === "cost_limit") {
          await this.close(run, attempt, await writer.take(), {
            status: "failed",
            error: { code: "cost_limit", message: costStop ?? "The run passed its cost limit." },
            usage,
            agent,
          });
          return undefined;
        }
        if (stopped === "cancelled") {
          await this.close(run, attempt, await writer.take(), {
            status: "cancelled",
            usage,
            agent,
          });
          return undefined;
        }
        const failure = describeFailure(error, stopped, agent, scrubber);
        if (failure.retryable && attempt < this.options.maxAttempts) {
          const retryInMs = retryDelayMs(this.options.retryBackoffMs, attempt);
          writer.add("attempt.failed", { ...failure.error, attempt, retryInMs });
          await writer.flush();
          log.info({ attempt, retryInMs, code: failure.error.code }, "turn failed; trying again");
          await sleep(retryInMs, undefined, { signal: control.signal }).catch(() => undefined);
          if (control.signal.aborted) continue; // handled at the top of the next round
          attempt += 1;
          if (!(await runs.startAttempt(run.id, attempt, this.options.workerId))) return undefined;
          writer.add("run.status", { status: "running", attempt });
          continue;
        }
        if (!failure.expected) log.error({ err: scrubber.error(error) }, "run failed unexpectedly");
        await this.close(run, attempt, await writer.take(), {
          status: "failed",
          error: failure.error,
          usage,
          agent,
        });
        return undefined;
      }
    }
  }

  /** One try of the turn, events streamed to the timeline as they come. */
  private async turn(
    run: Run,
    agent: RunnableAgent,
    attempt: number,
    writer: EventWriter,
    control: RunControl,
    scrubber: SecretScrubber,
    usage: RuntimeUsage[],
    stopForCost: (message: string) => void,
  ): Promise<TurnResult> {
    if (control.signal.aborted) throw control.signal.reason;
    const { runtimes, sessions } = this.options;
    const runtime = runtimes.get(agent.runtime.type);
    const settings = runtimes.parse(agent.runtime);
    const session = await sessions.get(run.sessionId);
    if (!session) throw new Error(`session ${run.sessionId} is gone`);
    const transcript = await this.transcriptBefore(run);
    const personId = await this.options.personIds.of(run.userId);

    const timeoutMs = turnTimeoutMs(agent.timeoutSeconds, this.options.defaultTimeoutMs);
    const key = await this.keys.issue(run, agent, timeoutMs);
    const timer = setTimeout(() => control.abort("timeout"), timeoutMs);
    let deltas = "";
    let final: string | undefined;
    let abortedAt: number | undefined;
    const watch = new CostWatch(run, agent, {
      ledger: this.options.ledger,
      budgets: this.options.budgets,
      intervalMs: this.options.costCheckIntervalMs,
      reportedBeforeUsd: usage.reduce((sum, entry) => sum + (entry.costUsd ?? 0), 0),
      stop: stopForCost,
    });
    watch.start();
    const streamed = scrubber.stream();
    const addDelta = (text: string) => {
      if (text) writer.add("message.delta", { text });
    };
    try {
      for await (const event of runtime.turn({
        settings,
        agent: { id: agent.id, name: agent.name },
        sessionId: session.id,
        personId,
        handle: session.runtimeHandle,
        input: run.input,
        transcript,
        runId: run.id,
        attempt,
        signal: control.signal,
        secrets: scrubber.watch(this.options.secrets({ id: agent.id, name: agent.name })),
        modelProxy: key?.access,
        maxCostUsdPerRun: agent.maxCostUsdPerRun,
      })) {
        if (control.signal.aborted) {
          // A stopped turn's last words still count: the runtime's handle (a vendor session
          // it stopped, so the next turn does not reuse it) and what the turn spent, which is
          // booked. Nothing else is shown. Not after a lost lease (another worker owns the
          // session now), and not for a runtime that keeps talking past the grace.
          const reason = control.signal.reason as StopReason;
          abortedAt ??= Date.now();
          if (reason === "lease_lost" || reason === "shutdown") break;
          if (Date.now() - abortedAt > AFTER_STOP_GRACE_MS) break;
          if (event.type === "handle") {
            await sessions.setHandle(session.id, scrubber.deep(event.handle));
          } else if (event.type === "usage") {
            usage.push(scrubber.deep(event.usage));
            writer.add("usage", scrubber.deep({ ...event.usage }));
          }
          continue;
        }
        switch (event.type) {
          case "handle":
            await sessions.setHandle(session.id, scrubber.deep(event.handle));
            break;
          case "status":
            writer.add("runtime.status", {
              status: scrubber.text(event.status),
              message: event.message === undefined ? undefined : scrubber.text(event.message),
            });
            break;
          case "message_delta":
            deltas += event.text;
            addDelta(streamed.push(event.text));
            break;
          case "tool_use":
            writer.add(
              "tool.use",
              scrubber.deep({ name: event.name, input: event.input, id: event.id }),
            );
            break;
          case "message":
            final = event.text;
            break;
          case "usage":
            usage.push(scrubber.deep(event.usage));
            writer.add("usage", scrubber.deep({ ...event.usage }));
            await watch.reported(event.usage);
            break;
        }
      }
      addDelta(streamed.end());
    } finally {
      clearTimeout(timer);
      watch.end();
      await key?.revoke();
    }
    if (control.signal.aborted) throw control.signal.reason;
    return { output: scrubber.text(final ?? deltas) };
  }

  /** Earlier turns of the session that succeeded: the memory that travels between runtimes. */
  private async transcriptBefore(run: Run): Promise<TranscriptMessage[]> {
    const entries = await this.options.sessions.memoryBefore(run.sessionId, run.id);
    return entries
      .filter((entry) => entry.role !== "system")
      .map((entry) => ({ role: entry.role as "user" | "agent", content: entry.content }));
  }

  private async close(
    run: Run,
    attempt: number,
    events: NewRunEvent[],
    outcome: {
      status: "succeeded" | "failed" | "cancelled";
      output?: string;
      error?: RunError | undefined;
      usage?: RuntimeUsage[];
      agent?: RunnableAgent;
    },
  ): Promise<void> {
    const usage = outcome.usage ?? [];
    // The run's one figure: what the runtime reported and what its proxy calls booked so far
    // (proxy spend landing later is added to the run by governance when it is written).
    const costUsd =
      usage.reduce((sum, entry) => sum + (entry.costUsd ?? 0), 0) +
      (await this.options.ledger.runCost(run.id, { source: "proxy" }));
    let seq = events.at(-1)?.seq ?? (await this.options.runs.lastSeq(run.id));
    const closing = {
      seq: ++seq,
      type: "run.status" as const,
      data: {
        status: outcome.status,
        ...(outcome.error ? { error: outcome.error } : {}),
        ...(costUsd > 0 ? { costUsd } : {}),
      },
    };
    const written = await this.options.runs.finish(run.id, attempt, {
      status: outcome.status,
      output: outcome.output,
      error: outcome.error,
      events: [...events, closing],
      ledger: ledgerRows(run, attempt, outcome.agent?.runtime.type ?? run.runtime, usage),
    });
    if (written) this.options.signals.eventsAdded(run.id);
    if (written && this.options.tracer) {
      this.options.tracer.runEnded({
        runId: run.id,
        agentId: run.agentId,
        agentName: outcome.agent?.name,
        runtime: outcome.agent?.runtime.type ?? run.runtime,
        sessionId: run.sessionId,
        surface: run.surface,
        attempt,
        startedAt: run.startedAt ?? run.createdAt,
        endedAt: new Date(),
        status: outcome.status,
        errorCode: outcome.error?.code,
        usage,
        costUsd,
      });
    }
  }
}

/**
 * How long a turn may take: the manifest's limit, else RUN_TIMEOUT_SECONDS, never past
 * MAX_RUN_TIMEOUT_SECONDS. Manifests stored before that bound may say more (3,000,000 s
 * would overflow the timer and stop the turn at once); they get the bound.
 */
export function turnTimeoutMs(manifestSeconds: number | undefined, defaultMs: number): number {
  const ms = manifestSeconds ? manifestSeconds * 1000 : defaultMs;
  return Math.min(ms, MAX_RUN_TIMEOUT_SECONDS * 1000);
}

export { LeaseLost };
