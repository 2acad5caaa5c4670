import { randomUUID } from "node:crypto";
import type { Agent } from "undici";
import { checkedAgent, EgressPolicy } from "../egress/index.js";
import { callRuntime, errorDetail, type RuntimeResponse } from "../http/index.js";
import type { AgentRuntime, RuntimeEvent, TurnRequest } from "../runtime.js";
import {
  httpStatusError,
  isRuntimeError,
  RUNTIME_ERROR_CODES,
  RuntimeError,
} from "../runtime-error.js";
import { readServerSentEvents } from "../sse-reader.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import { AGENT, type AgentAnswer, badResponse, readResponse, StreamReader } from "./answer.js";
import { OAuthTokens, withSlash } from "./oauth.js";
import { type DatabricksSettings, databricksSettings } from "./settings.js";

type Request = TurnRequest<DatabricksSettings>;

interface Authorization {
  header: string;
  refused(): void;
}

const handleOf = (threadId: string, turns: number): RuntimeEvent => ({
  type: "handle",
  handle: { threadId, turns },
});

/** Where the agent is asked, and what it is called in messages and usage. */
function target(settings: DatabricksSettings): { url: string; name: string } {
  if (settings.endpoint) {
    return {
      url: new URL(
        `serving-endpoints/${encodeURIComponent(settings.endpoint)}/invocations`,
        withSlash(settings.workspace_url),
      ).toString(),
      name: settings.endpoint,
    };
  }
  const app = settings.app_url as string;
  return { url: new URL("responses", withSlash(app)).toString(), name: new URL(app).hostname };
}

/**
 * An agent on Databricks, asked through the ResponsesAgent schema: on a Model Serving
 * endpoint (`POST {workspace}/serving-endpoints/{name}/invocations`) or on Databricks Apps
 * (`POST {app}/responses`), https://docs.databricks.com/aws/en/agents/query-llms.
 *
 * Continuity: with `memory: thread` (the default) each turn sends only the new message and
 * `custom_inputs.thread_id`, the key Databricks' stateful agents checkpoint their memory by
 * (https://docs.databricks.com/aws/en/generative-ai/agent-framework/stateful-agents-model-serving),
 * with the same id as `context.conversation_id`; the handle keeps the thread id. With
 * `memory: transcript` the agent is stateless and each turn carries the conversation so far.
 *
 * Neither Model Serving nor Apps can stop a request in flight: a cancelled run hangs up,
 * which ends the stream; the agent's own call may still run to its end on Databricks.
 */
export class DatabricksRuntime implements AgentRuntime<DatabricksSettings> {
  readonly type = "databricks";
  readonly settings = databricksSettings;
  private readonly dispatcher: Agent;
  private readonly oauth: OAuthTokens;

  /** `egress`: where workspaces and apps may be; without it, internal addresses are refused. */
  constructor(options: { egress?: EgressPolicy } = {}) {
    this.dispatcher = checkedAgent(options.egress ?? new EgressPolicy());
    this.oauth = new OAuthTokens(this.dispatcher);
  }

  async *turn(request: Request): AsyncIterable<RuntimeEvent> {
    const { settings } = request;
    let threadId =
      typeof request.handle?.threadId === "string" && request.handle.threadId
        ? request.handle.threadId
        : request.sessionId;
    const seen = typeof request.handle?.turns === "number" ? request.handle.turns : 0;
    yield handleOf(threadId, seen);
    const authorization = await this.authorization(request);
    if (!authorization) return;

    const first =
      settings.memory === "transcript"
        ? [...request.transcript.map(asInputMessage), userMessage(request.input)]
        : [userMessage(request.input)];
    let answer = yield* this.ask(request, authorization, threadId, first);
    if (!answer) return;
    // An agent that reports its thread's turn in custom_outputs tells us when its memory lost
    // the thread: it answered as if this were an earlier turn, without the conversation. The
    // turn is asked again on a new thread primed with the transcript.
    if (
      settings.memory === "thread" &&
      seen > 0 &&
      answer.turn !== undefined &&
      answer.turn <= seen
    ) {
      threadId = `${request.sessionId}-${randomUUID().slice(0, 8)}`;
      yield sessionRestarted("the agent's memory no longer had this conversation's thread");
      yield handleOf(threadId, 0);
      const primed = primeWithTranscript(request.transcript, request.input);
      answer = yield* this.ask(request, authorization, threadId, [userMessage(primed)]);
      if (!answer) return;
      yield handleOf(threadId, answer.turn ?? 1);
    } else {
      yield handleOf(threadId, answer.turn ?? seen + 1);
    }
    yield { type: "message", text: answer.text };
    if (answer.usage) yield priced(answer.usage, settings);
  }

  async close(): Promise<void> {
    this.oauth.clear();
    await this.dispatcher.close();
  }

  /**
   * The Authorization header's value, and how to drop an OAuth token the agent refused (so
   * the retry asks for a fresh one); null when the run was cancelled meanwhile.
   */
  private async authorization(request: Request): Promise<Authorization | null> {
    const { auth, workspace_url } = request.settings;
    if ("token" in auth) {
      return { header: `Bearer ${await request.secrets(auth.token)}`, refused: () => {} };
    }
    const clientId =
      typeof auth.client_id === "string" ? auth.client_id : await request.secrets(auth.client_id);
    const secret = await request.secrets(auth.client_secret);
    try {
      const token = await this.oauth.token(workspace_url, clientId, secret, request.signal);
      return {
        header: `Bearer ${token}`,
        refused: () => this.oauth.forget(workspace_url, clientId, secret),
      };
    } catch (error) {
      if (request.signal.aborted) return null;
      throw error;
    }
  }

  /** One request to the agent; yields deltas and tool uses as they come; null when cancelled. */
  private async *ask(
    request: Request,
    authorization: Authorization,
    threadId: string,
    input: Array<{ role: string; content: string }>,
  ): AsyncGenerator<RuntimeEvent, AgentAnswer | null> {
    const { settings } = request;
    const { url, name } = target(settings);
    const response = await callRuntime({
      what: AGENT,
      url,
      headers: {
        authorization: authorization.header,
        accept: settings.stream ? "text/event-stream, application/json;q=0.5" : "application/json",
      },
      body: {
        input,
        custom_inputs: { thread_id: threadId },
        context: { conversation_id: threadId },
        ...(settings.stream ? { stream: true } : {}),
      },
      signal: request.signal,
      timeoutSeconds: settings.timeout_seconds,
      dispatcher: this.dispatcher,
    });
    if (!response) return null;
    try {
      if (response.status < 200 || response.status >= 300) {
        const text = await response.text();
        if (request.signal.aborted) return null;
        if (response.status === 401) authorization.refused();
        throw statusError(settings, response.status, text);
      }
      if (response.contentType === "text/event-stream") {
        return yield* this.streamed(request, response, name);
      }
      const text = await response.text();
      if (request.signal.aborted) return null;
      if (!response.contentType.endsWith("json")) {
        throw badResponse(
          `its answer is ${response.contentType || "without a content type"}, where JSON or an event stream was expected`,
        );
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw badResponse("its JSON answer is not valid JSON");
      }
      const answer = readResponse(value, name);
      for (const tool of answer.tools) yield tool;
      return answer;
    } finally {
      response.dispose();
    }
  }

  private async *streamed(
    request: Request,
    response: RuntimeResponse,
    model: string,
  ): AsyncGenerator<RuntimeEvent, AgentAnswer | null> {
    const reader = new StreamReader(model);
    let received = false;
    try {
      for await (const event of readServerSentEvents(response.chunks())) {
        received = true;
        for (const out of reader.read(event.data)) yield out;
      }
    } catch (error) {
      if (request.signal.aborted) return null;
      // The connection broke mid-answer: worth one more try, said plainly.
      if (received && isRuntimeError(error) && error.code === RUNTIME_ERROR_CODES.unavailable) {
        throw new RuntimeError(
          RUNTIME_ERROR_CODES.unavailable,
          `${AGENT}'s stream broke off before the answer was complete; the turn will be tried again.`,
          { retryable: true, cause: error },
        );
      }
      throw error;
    }
    if (request.signal.aborted) return null;
    const done = reader.finish();
    return {
      text: done.text,
      tools: [],
      ...(done.usage ? { usage: done.usage } : {}),
      ...(reader.turn !== undefined ? { turn: reader.turn } : {}),
    };
  }
}

const userMessage = (content: string) => ({ role: "user", content });

/** Reported tokens at the manifest's prices, when it gives them: an estimate, said so. */
function priced(event: RuntimeEvent, settings: DatabricksSettings): RuntimeEvent {
  const prices = settings.token_prices;
  if (event.type !== "usage" || !prices) return event;
  const { inputTokens, outputTokens } = event.usage;
  const costUsd =
    (inputTokens * prices.input_per_million_usd + outputTokens * prices.output_per_million_usd) /
    1_000_000;
  return { type: "usage", usage: { ...event.usage, costUsd, costEstimated: true } };
}

function asInputMessage(message: { role: "user" | "agent"; content: string }) {
  return { role: message.role === "user" ? "user" : "assistant", content: message.content };
}

function statusError(settings: DatabricksSettings, status: number, body: string): RuntimeError {
  const detail = errorDetail(body);
  const said = detail ? `: ${detail}` : "";
  if (status === 401) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `The Databricks workspace refused this agent's credentials (HTTP 401): check that the token or OAuth secret spec.runtime.auth refers to is current.`,
    );
  }
  if (status === 403) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      settings.endpoint
        ? `The credentials in spec.runtime.auth may not query serving endpoint ${settings.endpoint} (HTTP 403); give their user or service principal Can Query on it${said}`
        : `The credentials in spec.runtime.auth may not use the Databricks app (HTTP 403); give the service principal Can Use on it${said}`,
    );
  }
  if (status === 404) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      settings.endpoint
        ? `The Databricks workspace has no serving endpoint named ${settings.endpoint} (HTTP 404): check spec.runtime.endpoint${said}`
        : `The Databricks app has no Responses endpoint at /responses (HTTP 404): check spec.runtime.app_url, and that the app serves a ResponsesAgent${said}`,
    );
  }
  return httpStatusError(AGENT, status, detail);
}
