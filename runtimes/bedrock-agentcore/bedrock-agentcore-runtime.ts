import { createHash, randomUUID } from "node:crypto";
import {
  BedrockAgentCoreClient,
  InvokeAgentRuntimeCommand,
  StopRuntimeSessionCommand,
} from "@aws-sdk/client-bedrock-agentcore";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import type { Agent } from "undici";
import { checkedAgent, checkedFetch, EgressPolicy } from "../egress/index.js";
import type {
  AgentRuntime,
  RuntimeEvent,
  RuntimeHandle,
  SecretResolver,
  TurnRequest,
} from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { readServerSentEvents } from "../sse-reader.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import { AGENT, badResponse, readJsonAnswer, readStreamEvent } from "./answer.js";
import { isNotFound, toRuntimeError } from "./errors.js";
import { type BedrockAgentCoreSettings, bedrockAgentCoreSettings } from "./settings.js";

type Request = TurnRequest<BedrockAgentCoreSettings>;

/** The AgentCore session a Switchboard session is on, and when it was last used. */
interface Session {
  runtimeSessionId: string;
  startedAt: number;
  lastTurnAt: number;
  turns: number;
  /** Stopped by Switchboard (a cancelled run): its microVM and memory are gone. */
  stopped?: boolean;
}

/** The ledger's name for AgentCore compute, booked as an estimate from each turn's duration. */
export const COMPUTE_MODEL = "agentcore-compute";

/** AgentCore wants session ids of 33 to 256 characters; ours is a prefix and a UUID (48). */
export function runtimeSessionIdFor(sessionId: string, suffix?: string): string {
  return `switchboard-${sessionId}${suffix ? `-${suffix}` : ""}`.slice(0, 256);
}

function sessionOf(handle: RuntimeHandle | null): Session | undefined {
  if (!handle || typeof handle.runtimeSessionId !== "string") return undefined;
  const number = (value: unknown) => (typeof value === "number" ? value : 0);
  return {
    runtimeSessionId: handle.runtimeSessionId,
    startedAt: number(handle.startedAt),
    lastTurnAt: number(handle.lastTurnAt),
    turns: number(handle.turns),
    ...(handle.stopped === true ? { stopped: true } : {}),
  };
}

const handleOf = (session: Session): RuntimeEvent => ({ type: "handle", handle: { ...session } });

/** The manifest's payload template with the message and the session put in. */
export function fillPayload(template: unknown, input: string, sessionId: string): unknown {
  if (typeof template === "string") {
    if (template === "{{input}}") return input;
    return template.replaceAll("{{input}}", input).replaceAll("{{session_id}}", sessionId);
  }
  if (Array.isArray(template)) return template.map((item) => fillPayload(item, input, sessionId));
  if (template && typeof template === "object") {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, fillPayload(value, input, sessionId)]),
    );
  }
  return template;
}

/**
 * An agent on Amazon Bedrock AgentCore Runtime, through `@aws-sdk/client-bedrock-agentcore`:
 * each turn is one `InvokeAgentRuntime` on the manifest's ARN and qualifier, with the payload
 * the manifest's template makes and a `runtimeSessionId` derived from Switchboard's session,
 * so one conversation stays on one microVM and its memory. With `send_runtime_user_id`, the
 * person's opaque id (`TurnRequest.personId`, never their email) goes as `runtimeUserId`. The answer is read as it arrives.
 *
 * AgentCore ends a session that idles past the runtime's idleRuntimeSessionTimeout or lives
 * past its maxLifetime, and then quietly starts a fresh microVM for the same id. The handle
 * keeps when the session started and was last used, so such a session is known to be gone
 * and the turn opens a new one primed with the transcript (as it does when the agent reports
 * a `turn` that shows it forgot). A cancelled run stops the session (`StopRuntimeSession`,
 * the only way AgentCore has to stop work in flight); the next turn starts a new one.
 *
 * The SDK's retries are off (the runs engine retries turns) and its HTTP goes through the
 * checked dialer, so an `endpoint` setting reaches only allowed addresses.
 */
export class BedrockAgentCoreRuntime implements AgentRuntime<BedrockAgentCoreSettings> {
  readonly type = "bedrock-agentcore";
  readonly settings = bedrockAgentCoreSettings;
  private readonly clients = new Map<string, BedrockAgentCoreClient>();
  private readonly dispatcher: Agent;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly stopTimeoutMs: number;

  constructor(options: { egress?: EgressPolicy; now?: () => number; stopTimeoutMs?: number } = {}) {
    this.dispatcher = checkedAgent(options.egress ?? new EgressPolicy());
    this.fetch = checkedFetch(this.dispatcher);
    this.now = options.now ?? Date.now;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  }

  async *turn(request: Request): AsyncIterable<RuntimeEvent> {
    const { settings } = request;
    const client = await this.clientFor(settings, request.secrets);
    const now = this.now();
    const existing = sessionOf(request.handle);
    const lost = existing ? this.lostBecause(existing, settings, now) : undefined;
    let session: Session =
      existing && !lost
        ? existing
        : {
            runtimeSessionId: existing
              ? runtimeSessionIdFor(request.sessionId, randomUUID().slice(0, 8))
              : runtimeSessionIdFor(request.sessionId),
            startedAt: now,
            lastTurnAt: now,
            turns: 0,
          };
    yield handleOf(session);
    if (lost) yield sessionRestarted(lost);
    let text = lost ? primeWithTranscript(request.transcript, request.input) : request.input;

    let outcome = yield* this.invoke(client, request, session, text);
    if (!outcome) return;
    // An agent that reports its memory's turn shows a fresh microVM behind a known id.
    if (!lost && session.turns > 0 && outcome.turn !== undefined && outcome.turn <= session.turns) {
      yield outcome.usage;
      const at = this.now();
      session = {
        runtimeSessionId: runtimeSessionIdFor(request.sessionId, randomUUID().slice(0, 8)),
        startedAt: at,
        lastTurnAt: at,
        turns: 0,
      };
      yield sessionRestarted("the agent no longer had this conversation in its memory");
      yield handleOf(session);
      text = primeWithTranscript(request.transcript, request.input);
      outcome = yield* this.invoke(client, request, session, text);
      if (!outcome) return;
    }
    session = { ...session, lastTurnAt: this.now(), turns: outcome.turn ?? session.turns + 1 };
    yield handleOf(session);
    yield { type: "message", text: outcome.text };
    yield outcome.usage;
  }

  /** Stops the AgentCore session when Switchboard closes its own; one already gone is fine. */
  async closeSession(
    settings: BedrockAgentCoreSettings,
    handle: RuntimeHandle,
    secrets: SecretResolver,
  ): Promise<void> {
    const session = sessionOf(handle);
    if (!session || session.stopped) return;
    const client = await this.clientFor(settings, secrets);
    try {
      await client.send(
        new StopRuntimeSessionCommand({
          agentRuntimeArn: settings.agent_runtime_arn,
          qualifier: settings.qualifier,
          runtimeSessionId: session.runtimeSessionId,
        }),
      );
    } catch (error) {
      if (isNotFound(error)) return;
      throw toRuntimeError(error, {
        arn: settings.agent_runtime_arn,
        qualifier: settings.qualifier,
      });
    }
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
    await this.dispatcher.close();
  }

  /** Why the handle's session cannot hold the conversation any more, if it cannot. */
  private lostBecause(
    session: Session,
    settings: BedrockAgentCoreSettings,
    now: number,
  ): string | undefined {
    if (session.stopped) return "it was stopped when a run was cancelled";
    if (now - session.lastTurnAt >= settings.idle_timeout_seconds * 1000) {
      return `it was idle longer than ${settings.idle_timeout_seconds} seconds`;
    }
    if (now - session.startedAt >= settings.max_lifetime_seconds * 1000) {
      return `it reached AgentCore's ${settings.max_lifetime_seconds}-second lifetime`;
    }
    return undefined;
  }

  /** One client per region, endpoint and credentials, made on first use. */
  private async clientFor(
    settings: BedrockAgentCoreSettings,
    secrets: SecretResolver,
  ): Promise<BedrockAgentCoreClient> {
    const given = settings.credentials;
    const credentials = given
      ? {
          accessKeyId: await secrets(given.access_key_id),
          secretAccessKey: await secrets(given.secret_access_key),
          ...(given.session_token ? { sessionToken: await secrets(given.session_token) } : {}),
        }
      : undefined;
    const digest = createHash("sha256")
      .update(JSON.stringify([settings.region, settings.endpoint ?? "", credentials ?? null]))
      .digest("hex");
    let client = this.clients.get(digest);
    if (!client) {
      client = new BedrockAgentCoreClient({
        region: settings.region,
        ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        maxAttempts: 1,
        // Every call connects through the checked dialer, as every other adapter's does.
        requestHandler: new FetchHttpHandler({
          customFetch: this.fetch,
          // fetch sets Content-Length itself; undici refuses one given alongside a stream body.
          requestInit: (httpRequest) => ({
            headers: new Headers(
              Object.entries(httpRequest.headers).filter(
                ([name]) => name.toLowerCase() !== "content-length",
              ),
            ),
          }),
        }),
      });
      this.clients.set(digest, client);
    }
    return client;
  }

  /**
   * One InvokeAgentRuntime, its answer read as it arrives; null when the run was cancelled
   * (the session is stopped at AgentCore then, and the handle says so).
   */
  private async *invoke(
    client: BedrockAgentCoreClient,
    request: Request,
    session: Session,
    text: string,
  ): AsyncGenerator<RuntimeEvent, { text: string; turn?: number; usage: RuntimeEvent } | null> {
    const { settings } = request;
    const runtimeUserId = settings.send_runtime_user_id ? request.personId : undefined;
    if (settings.send_runtime_user_id && !runtimeUserId) {
      // Sending nothing would put every person on one identity: refuse instead.
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        "This agent sends runtimeUserId, but the turn came without a person to send.",
      );
    }
    const context = {
      arn: settings.agent_runtime_arn,
      qualifier: settings.qualifier,
      forUser: runtimeUserId !== undefined,
    };
    const deadline = AbortSignal.timeout(settings.timeout_seconds * 1000);
    const signal = AbortSignal.any([request.signal, deadline]);
    const started = this.now();
    const usage = (): RuntimeEvent => {
      const seconds = Math.max(0.001, (this.now() - started) / 1000);
      return {
        type: "usage",
        usage: {
          model: COMPUTE_MODEL,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: seconds * settings.usd_per_second,
          costEstimated: true,
        },
      };
    };
    const payload = fillPayload(settings.payload, text, session.runtimeSessionId);
    const deltas: string[] = [];
    let answer: { text: string; turn?: number } | undefined;
    let turn: number | undefined;
    let received = false;
    try {
      const output = await client.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: settings.agent_runtime_arn,
          qualifier: settings.qualifier,
          runtimeSessionId: session.runtimeSessionId,
          ...(runtimeUserId ? { runtimeUserId } : {}),
          contentType: "application/json",
          accept: "text/event-stream, application/json",
          payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
        { abortSignal: signal },
      );
      const type = (output.contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
      const body = bodyOf(output.response);
      if (type === "text/event-stream") {
        for await (const event of readServerSentEvents(body)) {
          received = true;
          const read = readStreamEvent(event.data);
          if (read.turn !== undefined) turn = read.turn;
          if (read.text) {
            deltas.push(read.text);
            yield { type: "message_delta", text: read.text };
          }
        }
        if (deltas.length === 0) throw badResponse("its stream ended without any text");
        answer = { text: deltas.join(""), ...(turn !== undefined ? { turn } : {}) };
      } else {
        let raw = "";
        const decoder = new TextDecoder();
        for await (const chunk of body) raw += decoder.decode(chunk, { stream: true });
        raw += decoder.decode();
        if (type.endsWith("json")) answer = readJsonAnswer(raw);
        else if (type.startsWith("text/") && type !== "text/html" && raw.trim())
          answer = { text: raw };
        else
          throw badResponse(
            `its answer is ${type || "without a content type"}, where JSON or an event stream was expected`,
          );
      }
    } catch (error) {
      if (request.signal.aborted) {
        yield* this.stopOnCancel(client, settings, session, usage());
        return null;
      }
      if (deadline.aborted) {
        throw new RuntimeError(
          RUNTIME_ERROR_CODES.unavailable,
          `${AGENT} did not finish answering within ${settings.timeout_seconds} seconds.`,
          { retryable: true, cause: error },
        );
      }
      if (received && !(error instanceof RuntimeError)) {
        throw new RuntimeError(
          RUNTIME_ERROR_CODES.unavailable,
          `${AGENT}'s stream broke off before the answer was complete; the turn will be tried again.`,
          { retryable: true, cause: error },
        );
      }
      throw toRuntimeError(error, context);
    }
    if (request.signal.aborted) {
      yield* this.stopOnCancel(client, settings, session, usage());
      return null;
    }
    return { ...answer, usage: usage() };
  }

  /**
   * Stops the session a cancelled run was working in: AgentCore has no way to stop one
   * invocation, only its session. Best effort and bounded; the handle marks it stopped.
   * The stop is sent before anything is yielded: the runs engine stops reading a cancelled
   * turn at its next event, so a stop after a yield would never be sent.
   */
  private async *stopOnCancel(
    client: BedrockAgentCoreClient,
    settings: BedrockAgentCoreSettings,
    session: Session,
    spent: RuntimeEvent,
  ): AsyncGenerator<RuntimeEvent> {
    try {
      await client.send(
        new StopRuntimeSessionCommand({
          agentRuntimeArn: settings.agent_runtime_arn,
          qualifier: settings.qualifier,
          runtimeSessionId: session.runtimeSessionId,
        }),
        { abortSignal: AbortSignal.timeout(this.stopTimeoutMs) },
      );
    } catch {
      // Gone already, or AgentCore unreachable: nothing more to stop.
    }
    yield spent;
    yield handleOf({ ...session, stopped: true });
  }
}

/** The response body as bytes, whichever stream the SDK's HTTP handler produced. */
function bodyOf(response: unknown): AsyncIterable<Uint8Array> {
  if (response && typeof response === "object" && Symbol.asyncIterator in response) {
    return response as AsyncIterable<Uint8Array>;
  }
  const web = (
    response as { transformToWebStream?: () => ReadableStream<Uint8Array> } | undefined
  )?.transformToWebStream?.();
  if (web) return web as unknown as AsyncIterable<Uint8Array>;
  throw badResponse("its answer had no body");
}
