import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { CancelTaskRequest, GetTaskRequest, SendMessageRequest } from "@a2a-js/sdk";
import { A2AError, TaskNotFoundError } from "@a2a-js/sdk/errors";
import type { Agent } from "undici";
import { checkedAgent, checkedFetch, EgressPolicy } from "../egress/index.js";
import { excerpt } from "../excerpt.js";
import type {
  AgentRuntime,
  RuntimeEvent,
  RuntimeHandle,
  SecretResolver,
  TurnRequest,
} from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError, unreachableError } from "../runtime-error.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import { AgentCards, type ResolvedAgent } from "./agent-cards.js";
import { AnswerReader } from "./answer.js";
import { agentName, guardedFetch, networkCause } from "./http.js";
import { type A2aSettings, a2aSettings } from "./settings.js";

export interface A2aRuntimeOptions {
  /** Where agents may be; without it, internal addresses are refused. */
  egress?: EgressPolicy;
  /**
   * The fetch under the SDK and the card reader (tests wrap it); global fetch by default.
   * It is handed the checked dispatcher with every request.
   */
  fetch?: typeof fetch;
  /** Pause between `tasks/get` polls of a non-streamed task. */
  pollIntervalMs?: number;
}

/** How long a `tasks/cancel` may take when a run is cancelled: the turn must end promptly. */
const CANCEL_TIMEOUT_MS = 5_000;

/** What one turn's exchanges share: the agent, the resolved headers, how to send, the run's signal. */
interface TurnContext {
  agent: ResolvedAgent;
  headers: Record<string, string>;
  streaming: boolean;
  signal: AbortSignal;
}

/** Thrown inside a turn when the agent no longer knows the handle's contextId. */
class ContextGone extends Error {}

/**
 * Any agent that speaks A2A (1.0 or 0.3, JSON-RPC or HTTP+JSON), through the official
 * `@a2a-js/sdk` client. The Switchboard session rides on A2A's `contextId`: the first turn
 * sends none and keeps the one the agent answers with; later turns send it back. Streamed
 * when the card says the agent can, otherwise sent with `returnImmediately` and polled, so
 * a running task always has an id that `tasks/cancel` can name.
 */
export class A2aRuntime implements AgentRuntime<A2aSettings> {
  readonly type = "a2a";
  readonly settings = a2aSettings;
  private readonly cards: AgentCards;
  private readonly pollIntervalMs: number;
  private readonly dispatcher: Agent;

  constructor(options: A2aRuntimeOptions = {}) {
    this.dispatcher = checkedAgent(options.egress ?? new EgressPolicy());
    // Card fetches, SDK calls and the redirects they follow all connect through the dispatcher.
    this.cards = new AgentCards(guardedFetch(checkedFetch(this.dispatcher, options.fetch)));
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  async *turn(request: TurnRequest<A2aSettings>): AsyncIterable<RuntimeEvent> {
    const { settings, signal } = request;
    const headers = await resolveHeaders(settings, request.secrets);
    let agent: ResolvedAgent;
    try {
      agent = await untilAborted(
        this.cards.resolve(settings.url, settings.protocol, headers),
        signal,
      );
    } catch (error) {
      if (signal.aborted) return;
      throw toRuntimeError(error, settings.url);
    }
    const streaming = settings.streaming ?? agent.card.capabilities?.streaming === true;
    const turn: TurnContext = { agent, headers, streaming, signal };
    const contextId = typeof request.handle?.contextId === "string" ? request.handle.contextId : "";
    try {
      yield* this.exchange(turn, request.input, contextId);
    } catch (error) {
      if (!(error instanceof ContextGone)) throw error;
      yield sessionRestarted("the agent no longer knew its A2A context");
      yield* this.exchange(turn, primeWithTranscript(request.transcript, request.input), "");
    }
  }

  async close(): Promise<void> {
    this.cards.clear();
    await this.dispatcher.close();
  }

  /** One message to the agent and everything until its task answers, fails or is cancelled. */
  private async *exchange(
    turn: TurnContext,
    text: string,
    contextId: string,
  ): AsyncGenerator<RuntimeEvent> {
    const { agent, signal } = turn;
    const client = agent.client;
    const options = { signal, serviceParameters: turn.headers };
    const reader = new AnswerReader();
    const params = SendMessageRequest.fromJSON({
      message: {
        messageId: randomUUID(),
        role: "ROLE_USER",
        parts: [{ text }],
        ...(contextId ? { contextId } : {}),
      },
    });
    let handleSent = false;
    const withHandle = (events: RuntimeEvent[]): RuntimeEvent[] => {
      if (handleSent || !reader.contextId) return events;
      handleSent = true;
      const handle: RuntimeHandle = { contextId: reader.contextId, cardUrl: agent.cardUrl };
      return [{ type: "handle", handle }, ...events];
    };
    try {
      if (turn.streaming) {
        for await (const update of client.sendMessageStream(params, options)) {
          yield* withHandle(reader.absorb(update.payload));
          if (signal.aborted) break;
        }
      } else {
        const result = await client.sendMessage(params, options);
        const update =
          "messageId" in result
            ? ({ $case: "message", value: result } as const)
            : ({ $case: "task", value: result } as const);
        yield* withHandle(reader.absorb(update));
      }
      // Polls a plain send until it ends; also picks up a stream that closed too early.
      while (reader.outcome === "running" && !signal.aborted) {
        if (!reader.taskId) {
          throw new RuntimeError(
            RUNTIME_ERROR_CODES.badResponse,
            `${agentName(agent.cardUrl)} stopped answering before naming its task.`,
          );
        }
        await sleep(this.pollIntervalMs, undefined, { signal });
        const task = await client.getTask(
          GetTaskRequest.fromJSON({ id: reader.taskId, historyLength: 0 }),
          options,
        );
        yield* withHandle(reader.absorb({ $case: "task", value: task }));
      }
    } catch (error) {
      if (signal.aborted) return void (await cancel(turn, reader));
      if (contextId && !handleSent && isUnknownContext(error)) throw new ContextGone();
      throw toRuntimeError(error, agent.cardUrl);
    }
    if (signal.aborted) return void (await cancel(turn, reader));
    yield* withHandle([]);
    yield finish(reader, agent.cardUrl);
  }
}

/** The final event of a task that stopped running: its answer, or why it ended without one. */
function finish(reader: AnswerReader, cardUrl: string): RuntimeEvent {
  const who = agentName(cardUrl);
  const reason = excerpt(reader.reason());
  switch (reader.outcome) {
    case "failed":
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.agentFailed,
        `${who} could not finish the task${reason ? `: ${reason}` : "."}`,
      );
    case "rejected":
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.agentFailed,
        `${who} declined the request${reason ? `: ${reason}` : "."}`,
      );
    case "canceled":
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.agentFailed,
        `${who} cancelled the task before answering${reason ? `: ${reason}` : "."}`,
      );
    default: {
      const answer = reader.answer();
      if (!answer) {
        throw new RuntimeError(
          RUNTIME_ERROR_CODES.badResponse,
          `${who} finished without any text in its answer.`,
        );
      }
      return { type: "message", text: answer };
    }
  }
}

/** Waits for `promise`, or rejects as soon as the turn is cancelled (the card fetch is shared). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Tells the agent to stop the running task; best effort, bounded, never throws. */
async function cancel(turn: TurnContext, reader: AnswerReader): Promise<void> {
  if (!reader.taskId || reader.outcome !== "running") return;
  await turn.agent.client
    .cancelTask(CancelTaskRequest.fromJSON({ id: reader.taskId }), {
      signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS),
      serviceParameters: turn.headers,
    })
    .catch(() => undefined);
}

async function resolveHeaders(
  settings: A2aSettings,
  secrets: SecretResolver,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const [name, reference] of Object.entries(settings.headers ?? {})) {
    headers[name] = await secrets(reference);
  }
  return headers;
}

/**
 * A2A has no error of its own for an unknown contextId; agents answer a context they lost
 * with TaskNotFound (JSON-RPC -32001, REST 404), which a stream wraps in its error's cause.
 */
function isUnknownContext(error: unknown): boolean {
  return (
    error instanceof TaskNotFoundError ||
    (error instanceof Error && error.cause instanceof TaskNotFoundError)
  );
}

function toRuntimeError(error: unknown, url: string): RuntimeError {
  if (error instanceof RuntimeError) return error;
  const who = agentName(url);
  const a2a =
    error instanceof A2AError
      ? error
      : error instanceof Error && error.cause instanceof A2AError
        ? error.cause
        : undefined;
  if (a2a) {
    const code = (a2a as { envelopeCode?: number }).envelopeCode;
    const status = (a2a as { statusCode?: number }).statusCode ?? 0;
    if (code === -32603 || status >= 500) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `${who} had an internal error: ${excerpt(a2a.message)}`,
        { retryable: true, cause: error },
      );
    }
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `${who} refused the request: ${excerpt(a2a.message)}`,
      { cause: error },
    );
  }
  // A connection dropped while a stream or body was being read.
  if (error instanceof TypeError && error.cause instanceof Error) {
    return unreachableError(who, networkCause(error));
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new RuntimeError(
    RUNTIME_ERROR_CODES.badResponse,
    `${who} answered with something Switchboard cannot read (${excerpt(detail)}).`,
    { cause: error },
  );
}
