import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import {
  isRuntimeError,
  RuntimeError,
  type RuntimeRegistry,
  type RuntimeUsage,
  type SecretResolver,
  type TranscriptMessage,
} from "../../runtimes/index.js";
import type { Run, RunError } from "../records.js";
import type { RunSignals } from "../signals/run-signals.js";
import type { NewRunEvent, RunStore } from "../store/run-store.js";
import type { SessionStore } from "../store/session-store.js";
import type { AgentSource, RunnableAgent } from "./agent-source.js";
import { EventWriter } from "./event-writer.js";
import { ledgerRows } from "./ledger-rows.js";
import type { RunKey, RunKeyIssuer } from "./run-keys.js";
import { SecretScrubber } from "./secret-scrubber.js";

/**
 * Makes the secret resolver for one turn of an agent: it resolves only what that agent may
 * use, checked when the runtime asks (see secrets/).
 */
export type AgentSecrets = (agent: { id: string; name: string }) => SecretResolver;

export interface ExecutorOptions {
  runs: RunStore;
  sessions: SessionStore;
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
  runKeys?: RunKeyIssuer | undefined;
}

/**
 * A worker dying mid-turn (a deploy, kill -9) is not the runtime failing: a run gets this
 * many tries beyond RUN_MAX_ATTEMPTS before it is given up as `worker_lost`, so a setting
 * of 1 ("do not retry the runtime") still recovers from a restart.
 */
const WORKER_LOSSES_FORGIVEN = 2;

/** A run's model proxy key outlives its time limit by this, then expires on its own. */
const KEY_GRACE_MS = 5 * 60_000;

/** Why a turn was stopped from outside. */
type StopReason = "cancelled" | "timeout" | "lease_lost" | "shutdown";

/** The attempt's own control: the drainer aborts it when the lease is lost or a cancel arrives. */
export interface RunControl {
  abort(reason: StopReason): void;
  readonly signal: AbortSignal;
}

class LeaseLost extends Error {}

interface TurnResult {
  output: string;
  usage: RuntimeUsage[];
}

/**
 * Runs one run to its end: attempts with backoff while the runtime fails in a way that may
 * pass, then one closing transaction (status, output, transcript, ledger). Called by the
 * drainer while it holds the session's lease.
 */
export class RunExecutor {
  constructor(private readonly options: ExecutorOptions) {}

  async execute(run: Run, control: RunControl): Promise<void> {
    const { runs, logger } = this.options;
    const log = logger.child({ run_id: run.id, session_id: run.sessionId });
    let attempt = run.attempt;

    // A run still `running` here was its worker's when it died (or stalled past its lease).
    const recovered = run.status === "running";
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
      return;
    }

    const agent = await this.options.agents.byId(run.agentId);
    attempt += 1;
    if (!(await runs.startAttempt(run.id, attempt, this.options.workerId))) return;
    const writer = new EventWriter(
      runs,
      this.options.signals,
      run.id,
      // A run never started has exactly its "queued" event; others are read.
      run.status === "queued" && run.attempt === 0 ? 1 : await runs.lastSeq(run.id),
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

    const refusal = agent
      ? refusalFor(agent)
      : { code: "agent_not_found", message: "This agent no longer exists." };
    if (refusal || !agent) {
      await this.close(run, attempt, await writer.take(), { status: "failed", error: refusal });
      return;
    }

    const usage: RuntimeUsage[] = [];
    // Every value this run's turns resolve is kept out of what it stores and shows.
    const scrubber = new SecretScrubber();
    for (;;) {
      try {
        const result = await this.turn(run, agent, attempt, writer, control, scrubber);
        usage.push(...result.usage);
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
        return;
      } catch (error) {
        if (error instanceof LeaseLost) return;
        const stopped = control.signal.aborted ? (control.signal.reason as StopReason) : undefined;
        if (stopped === "lease_lost" || stopped === "shutdown") return;
        if (stopped === "cancelled") {
          await this.close(run, attempt, await writer.take(), {
            status: "cancelled",
            usage,
            agent,
          });
          return;
        }
        const failure = describeFailure(error, stopped, agent, scrubber);
        if (failure.retryable && attempt < this.options.maxAttempts) {
          const retryInMs = this.options.retryBackoffMs * 2 ** (attempt - 1);
          writer.add("attempt.failed", { ...failure.error, attempt, retryInMs });
          await writer.flush();
          log.info({ attempt, retryInMs, code: failure.error.code }, "turn failed; trying again");
          await sleep(retryInMs, undefined, { signal: control.signal }).catch(() => undefined);
          if (control.signal.aborted) continue; // handled at the top of the next round
          attempt += 1;
          if (!(await runs.startAttempt(run.id, attempt, this.options.workerId))) return;
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
        return;
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
  ): Promise<TurnResult> {
    if (control.signal.aborted) throw control.signal.reason;
    const { runtimes, sessions } = this.options;
    const runtime = runtimes.get(agent.runtime.type);
    const settings = runtimes.parse(agent.runtime);
    const session = await sessions.get(run.sessionId);
    if (!session) throw new Error(`session ${run.sessionId} is gone`);
    const transcript = await this.transcriptBefore(run);

    const timeoutMs = agent.timeoutSeconds
      ? agent.timeoutSeconds * 1000
      : this.options.defaultTimeoutMs;
    const key = await this.issueKey(run, agent, timeoutMs);
    const timer = setTimeout(() => control.abort("timeout"), timeoutMs);
    let deltas = "";
    let final: string | undefined;
    const usage: RuntimeUsage[] = [];
    const streamed = scrubber.stream();
    const addDelta = (text: string) => {
      if (text) writer.add("message.delta", { text });
    };
    try {
      for await (const event of runtime.turn({
        settings,
        agent: { id: agent.id, name: agent.name },
        sessionId: session.id,
        handle: session.runtimeHandle,
        input: run.input,
        transcript,
        runId: run.id,
        attempt,
        signal: control.signal,
        secrets: scrubber.watch(this.options.secrets({ id: agent.id, name: agent.name })),
        modelProxy: key?.access,
      })) {
        if (control.signal.aborted) break;
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
            break;
        }
      }
      addDelta(streamed.end());
    } finally {
      clearTimeout(timer);
      await key?.revoke().catch((error) => {
        // It expires on its own shortly after the run's time limit.
        this.options.logger.warn(
          { err: error, run_id: run.id },
          "could not revoke a run's model proxy key",
        );
      });
    }
    if (control.signal.aborted) throw control.signal.reason;
    return { output: scrubber.text(final ?? deltas), usage };
  }

  /** The attempt's model proxy key; a proxy that cannot issue one fails the try as retryable. */
  private async issueKey(
    run: Run,
    agent: RunnableAgent,
    timeoutMs: number,
  ): Promise<RunKey | undefined> {
    if (!this.options.runKeys) return undefined;
    try {
      return await this.options.runKeys(
        run,
        agent,
        new Date(Date.now() + timeoutMs + KEY_GRACE_MS),
      );
    } catch (error) {
      throw new RuntimeError(
        "model_proxy_unavailable",
        "Switchboard could not make this run's model proxy key; it will try again.",
        { retryable: true, cause: error },
      );
    }
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
    const costUsd = usage.reduce((sum, entry) => sum + (entry.costUsd ?? 0), 0);
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
      costUsd,
      events: [...events, closing],
      ledger: ledgerRows(run, attempt, outcome.agent?.runtime.type ?? run.runtime, usage),
    });
    if (written) this.options.signals.eventsAdded(run.id);
  }
}

/** Why an agent may not run at all, when it may not. */
function refusalFor(agent: RunnableAgent): RunError | undefined {
  if (agent.retired)
    return { code: "agent_retired", message: `The agent "${agent.name}" has been retired.` };
  if (agent.state !== "enabled") {
    const reason = agent.stateReason ? `: ${agent.stateReason}` : "";
    return {
      code: "agent_unavailable",
      message: `The agent "${agent.name}" is ${agent.state}${reason}.`,
    };
  }
  return undefined;
}

function describeFailure(
  error: unknown,
  stopped: StopReason | undefined,
  agent: RunnableAgent,
  scrubber: SecretScrubber,
): { error: RunError; retryable: boolean; expected: boolean } {
  if (stopped === "timeout") {
    return {
      error: {
        code: "timeout",
        message: `The agent "${agent.name}" did not finish within its time limit.`,
      },
      retryable: false,
      expected: true,
    };
  }
  if (isRuntimeError(error)) {
    return {
      error: { code: error.code, message: scrubber.text(error.message) },
      retryable: error.retryable,
      expected: true,
    };
  }
  return {
    error: {
      code: "internal_error",
      message:
        "Switchboard hit an unexpected error while running this agent; the error is in its logs.",
    },
    retryable: false,
    expected: false,
  };
}

export { LeaseLost };
