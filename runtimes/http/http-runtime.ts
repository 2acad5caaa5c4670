import { type Agent, request as undiciRequest } from "undici";
import { checkedAgent, EgressPolicy } from "../egress/index.js";
import { excerpt } from "../excerpt.js";
import type { AgentRuntime, RuntimeEvent, TurnRequest } from "../runtime.js";
import { httpStatusError, RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { readServerSentEvents } from "../sse-reader.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import { callRuntime, errorDetail, type RuntimeResponse } from "./call.js";
import { type HttpSettings, httpSettings } from "./settings.js";
import {
  AGENT,
  badResponse,
  eventData,
  isSessionNotFound,
  readJsonAnswer,
  runtimeSessionOf,
  usageEvents,
} from "./wire.js";

type Request = TurnRequest<HttpSettings>;

const KNOWN_EVENTS = new Set(["session", "delta", "status", "tool_use", "usage", "error", "done"]);

const handleOf = (runtimeSession: string | null): RuntimeEvent => ({
  type: "handle",
  handle: { runtime_session: runtimeSession },
});

/**
 * A home-grown agent behind the minimal HTTP contract in CONTRACT.md: one POST per turn,
 * answered with JSON or server-sent events. The handle is the agent's own opaque
 * `runtime_session`, sent back on the next turn; a 409 `session_not_found` means the agent
 * lost it, so the turn is sent again without it, primed with the transcript.
 */
export class HttpRuntime implements AgentRuntime<HttpSettings> {
  readonly type = "http";
  readonly settings = httpSettings;
  private readonly dispatcher: Agent;

  /** `egress`: where agents may be; without it, internal addresses are refused. */
  constructor(options: { egress?: EgressPolicy } = {}) {
    this.dispatcher = checkedAgent(options.egress ?? new EgressPolicy());
  }

  async *turn(request: Request): AsyncIterable<RuntimeEvent> {
    const headers: Record<string, string> = { accept: "text/event-stream, application/json" };
    for (const [name, reference] of Object.entries(request.settings.headers ?? {})) {
      headers[name.toLowerCase()] = await request.secrets(reference);
    }
    const previous =
      typeof request.handle?.runtime_session === "string" ? request.handle.runtime_session : null;

    let session = previous;
    let response = await this.send(request, headers, session, request.input);
    if (!response) return;
    if (response.status === 409 && session !== null) {
      const text = await response.text();
      if (!isSessionNotFound(text)) throw httpStatusError(AGENT, 409, errorDetail(text));
      yield sessionRestarted("the agent answered that it no longer has that session");
      session = null;
      const primed = primeWithTranscript(request.transcript, request.input);
      response = await this.send(request, headers, session, primed);
      if (!response) return;
    }
    try {
      yield* this.read(request, headers, response, session);
    } finally {
      response.dispose();
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private send(
    request: Request,
    headers: Record<string, string>,
    runtimeSession: string | null,
    input: string,
  ): Promise<RuntimeResponse | null> {
    return callRuntime({
      what: AGENT,
      url: request.settings.url,
      headers,
      body: {
        session_id: request.sessionId,
        runtime_session: runtimeSession,
        input,
        transcript: request.transcript,
        run_id: request.runId,
        attempt: request.attempt,
        agent: request.agent,
        ...(request.modelProxy
          ? {
              model_proxy: {
                base_url: request.modelProxy.baseUrl,
                api_key: request.modelProxy.apiKey,
              },
            }
          : {}),
      },
      signal: request.signal,
      timeoutSeconds: request.settings.timeout_seconds,
      dispatcher: this.dispatcher,
    });
  }

  private async *read(
    request: Request,
    headers: Record<string, string>,
    response: RuntimeResponse,
    session: string | null,
  ): AsyncIterable<RuntimeEvent> {
    if (response.status < 200 || response.status >= 300) {
      const text = await response.text();
      if (request.signal.aborted) return;
      if (response.status === 409 && isSessionNotFound(text)) {
        throw new RuntimeError(
          RUNTIME_ERROR_CODES.rejected,
          `${AGENT} answered session_not_found for a new session; it must accept runtime_session null.`,
        );
      }
      throw httpStatusError(AGENT, response.status, errorDetail(text));
    }
    if (response.contentType === "application/json" || response.contentType.endsWith("+json")) {
      const text = await response.text();
      if (request.signal.aborted) return;
      const answer = readJsonAnswer(text);
      yield handleOf(answer.runtimeSession === undefined ? session : answer.runtimeSession);
      yield { type: "message", text: answer.output };
      yield* answer.usage;
      return;
    }
    if (response.contentType === "text/event-stream") {
      yield* this.readStream(request, headers, response, session);
      return;
    }
    throw badResponse(
      `its answer is ${response.contentType || "without a content type"}, neither application/json nor text/event-stream`,
    );
  }

  private async *readStream(
    request: Request,
    headers: Record<string, string>,
    response: RuntimeResponse,
    initial: string | null,
  ): AsyncIterable<RuntimeEvent> {
    let session = initial;
    let handleSent = false;
    let cancelUrl: string | undefined;
    const deltas: string[] = [];
    for await (const event of readServerSentEvents(response.chunks())) {
      // Events this version does not know are skipped, so agents can add their own.
      if (!KNOWN_EVENTS.has(event.event)) continue;
      const data = eventData(event);
      switch (event.event) {
        case "session": {
          const reported = runtimeSessionOf(data);
          if (reported !== undefined) session = reported;
          if (typeof data.cancel_url === "string") {
            cancelUrl = sameOrigin(data.cancel_url, request.settings.url);
          }
          yield handleOf(session);
          handleSent = true;
          break;
        }
        case "delta": {
          if (typeof data.text !== "string") throw badResponse('a "delta" event has no text');
          if (!handleSent) {
            yield handleOf(session);
            handleSent = true;
          }
          deltas.push(data.text);
          yield { type: "message_delta", text: data.text };
          break;
        }
        case "status":
          if (typeof data.status !== "string") throw badResponse('a "status" event has no status');
          yield typeof data.message === "string"
            ? { type: "status", status: data.status, message: data.message }
            : { type: "status", status: data.status };
          break;
        case "tool_use":
          if (typeof data.name !== "string") throw badResponse('a "tool_use" event has no name');
          yield {
            type: "tool_use",
            name: data.name,
            ...(data.input === undefined ? {} : { input: data.input }),
            ...(typeof data.id === "string" ? { id: data.id } : {}),
          };
          break;
        case "usage":
          yield* usageEvents(data);
          break;
        case "error": {
          const retryable = data.retryable === true;
          const message = typeof data.message === "string" ? data.message : "no details given";
          throw new RuntimeError(
            retryable ? RUNTIME_ERROR_CODES.unavailable : RUNTIME_ERROR_CODES.agentFailed,
            `${AGENT} reported an error: ${excerpt(message)}`,
            { retryable },
          );
        }
        case "done": {
          const reported = runtimeSessionOf(data);
          if (reported !== undefined) session = reported;
          yield handleOf(session);
          const output = typeof data.output === "string" ? data.output : deltas.join("");
          yield { type: "message", text: output };
          return;
        }
      }
    }
    if (request.signal.aborted) {
      if (cancelUrl) await this.cancel(cancelUrl, headers, request);
      return;
    }
    throw new RuntimeError(
      RUNTIME_ERROR_CODES.unavailable,
      `${AGENT}'s event stream ended before its "done" event.`,
      { retryable: true },
    );
  }

  /** Best effort: the connection is already closed, which is the contract's main signal. */
  private async cancel(url: string, headers: Record<string, string>, request: Request) {
    try {
      const response = await undiciRequest(url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ session_id: request.sessionId, run_id: request.runId }),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(5_000),
      });
      await response.body.dump();
    } catch {
      // The agent may be gone already; the run is cancelled either way.
    }
  }
}

/**
 * The agent's `cancel_url`, resolved against its URL. Only on the agent's own origin: the
 * request carries the manifest's secret headers, which must not go anywhere else.
 */
function sameOrigin(cancelUrl: string, agentUrl: string): string {
  let resolved: URL;
  try {
    resolved = new URL(cancelUrl, agentUrl);
  } catch {
    throw badResponse("its cancel_url is not a URL");
  }
  if (resolved.origin !== new URL(agentUrl).origin) {
    throw badResponse("its cancel_url must be on the agent's own host");
  }
  return resolved.href;
}
