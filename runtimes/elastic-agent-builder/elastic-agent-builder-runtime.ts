import type { Agent } from "undici";
import { checkedAgent, EgressPolicy } from "../egress/index.js";
import { excerpt } from "../excerpt.js";
import { callRuntime, errorDetail } from "../http/index.js";
import type { AgentRuntime, RuntimeEvent, RuntimeHandle, TurnRequest } from "../runtime.js";
import { httpStatusError, RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { readServerSentEvents } from "../sse-reader.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import { AGENT_BUILDER, badResponse, RoundReader, StreamError } from "./round-reader.js";
import { type ElasticAgentBuilderSettings, elasticAgentBuilderSettings } from "./settings.js";

type Request = TurnRequest<ElasticAgentBuilderSettings>;

/** The converse API's version (Kibana's versioned public routes). */
const API_VERSION = "2023-10-31";

/** Kibana's error codes for errors that may pass when the same turn is tried again. */
const RETRYABLE_CODES = new Set(["internalError", "requestAborted"]);

function conversationOf(handle: RuntimeHandle | null): string | undefined {
  const id = handle?.conversationId;
  return typeof id === "string" && id ? id : undefined;
}

/** Why a turn must start a new conversation: the one in the handle is gone. */
class ConversationGone extends Error {}

/**
 * An agent made in Elastic's Agent Builder, through Kibana's streaming converse endpoint
 * (`POST [/s/{space}]/api/agent_builder/converse/async`). One Switchboard session is one
 * Agent Builder conversation: the first turn lets Kibana create it and keeps the
 * `conversation_id` it streams back; later turns send it. The API key goes as
 * `Authorization: ApiKey …` with the `kbn-xsrf` header Kibana requires on every POST.
 * Kibana stops a round when its request closes, so cancelling a run closes the stream.
 */
export class ElasticAgentBuilderRuntime implements AgentRuntime<ElasticAgentBuilderSettings> {
  readonly type = "elastic-agent-builder";
  readonly settings = elasticAgentBuilderSettings;
  private readonly dispatcher: Agent;

  /** `egress`: where Kibana may be; without it, internal addresses are refused. */
  constructor(options: { egress?: EgressPolicy } = {}) {
    this.dispatcher = checkedAgent(options.egress ?? new EgressPolicy());
  }

  async *turn(request: Request): AsyncIterable<RuntimeEvent> {
    const apiKey = await request.secrets(request.settings.api_key);
    const existing = conversationOf(request.handle);
    if (existing) {
      yield { type: "handle", handle: { conversationId: existing } };
      try {
        yield* this.round(request, apiKey, existing, request.input);
        return;
      } catch (error) {
        if (!(error instanceof ConversationGone)) throw error;
      }
      yield sessionRestarted("Agent Builder no longer has its conversation");
    }
    yield* this.round(
      request,
      apiKey,
      undefined,
      primeWithTranscript(request.transcript, request.input),
    );
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** One round of the conversation (a new one when `conversationId` is undefined). */
  private async *round(
    request: Request,
    apiKey: string,
    conversationId: string | undefined,
    input: string,
  ): AsyncGenerator<RuntimeEvent> {
    const { settings } = request;
    const space = settings.space && settings.space !== "default" ? `/s/${settings.space}` : "";
    const response = await callRuntime({
      what: AGENT_BUILDER,
      url: `${settings.kibana_url.replace(/\/+$/, "")}${space}/api/agent_builder/converse/async`,
      headers: {
        authorization: `ApiKey ${apiKey}`,
        "kbn-xsrf": "true",
        "elastic-api-version": API_VERSION,
        accept: "text/event-stream",
      },
      body: {
        agent_id: settings.agent_id,
        input,
        ...(conversationId ? { conversation_id: conversationId } : {}),
        ...(settings.connector_id ? { connector_id: settings.connector_id } : {}),
      },
      signal: request.signal,
      timeoutSeconds: settings.timeout_seconds,
      dispatcher: this.dispatcher,
    });
    if (!response) return;
    try {
      if (response.status !== 200) {
        const text = await response.text();
        if (request.signal.aborted) return;
        const detail = errorDetail(text);
        if (response.status === 404 && conversationId && /conversation/i.test(detail ?? "")) {
          throw new ConversationGone();
        }
        throw statusError(response.status, detail, settings);
      }
      // Kibana on Elastic Cloud labels the stream application/octet-stream to keep proxies
      // from compressing it; the framing is the same.
      const type = response.contentType;
      if (type !== "text/event-stream" && type !== "application/octet-stream") {
        throw badResponse(
          `its answer is ${excerpt(type, 60) || "without a content type"}, not server-sent events`,
        );
      }
      const reader = new RoundReader();
      try {
        for await (const event of readServerSentEvents(response.chunks())) {
          for (const out of reader.read(event)) yield out;
        }
      } catch (error) {
        if (!(error instanceof StreamError)) throw error;
        if (error.code === "conversationNotFound" && conversationId && !reader.started) {
          throw new ConversationGone();
        }
        throw streamFailure(error);
      }
      if (request.signal.aborted) return;
      if (!reader.complete) {
        throw new RuntimeError(
          RUNTIME_ERROR_CODES.unavailable,
          `${AGENT_BUILDER}'s stream closed before the agent finished its answer; the turn will be tried again.`,
          { retryable: true },
        );
      }
      if (!conversationId && !reader.conversationId) {
        throw badResponse("it never said which conversation the answer belongs to");
      }
      yield { type: "message", text: reader.text };
      if (reader.usage) yield { type: "usage", usage: reader.usage };
    } finally {
      response.dispose();
    }
  }
}

/** Kibana's answer when it refused the call, in words pointing at what to change. */
function statusError(
  status: number,
  detail: string | undefined,
  settings: ElasticAgentBuilderSettings,
): RuntimeError {
  if (status === 401) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      "Kibana refused the API key for this agent (HTTP 401). Check that the key spec.runtime.api_key refers to is current and is sent in its encoded form.",
    );
  }
  if (status === 403) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `Kibana does not let this API key use Agent Builder${settings.space ? ` in space ${settings.space}` : ""} (HTTP 403)${detail ? `: ${detail}` : "."}`,
    );
  }
  if (status === 404) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `${AGENT_BUILDER} has no agent ${excerpt(settings.agent_id, 80)} ${settings.space ? `in space ${settings.space}` : "in the default space"} (HTTP 404)${detail ? `: ${detail}` : ""}; check spec.runtime.agent_id and spec.runtime.space.`,
    );
  }
  return httpStatusError(AGENT_BUILDER, status, detail);
}

/** An error event inside the stream: an internal error may pass, the rest will not. */
function streamFailure(error: StreamError): RuntimeError {
  const retryable = RETRYABLE_CODES.has(error.code);
  const said = excerpt(error.message || error.code || "an unknown error");
  return new RuntimeError(
    retryable ? RUNTIME_ERROR_CODES.unavailable : RUNTIME_ERROR_CODES.agentFailed,
    `The Agent Builder agent failed: ${said}`,
    { retryable },
  );
}
