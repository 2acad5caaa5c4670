import { randomUUID } from "node:crypto";
import type { Agent } from "undici";
import { checkedAgent, EgressPolicy } from "../egress/index.js";
import { excerpt } from "../excerpt.js";
import { callRuntime, errorDetail, type RuntimeResponse } from "../http/index.js";
import type { AgentRuntime, RuntimeEvent, TurnRequest } from "../runtime.js";
import { httpStatusError, RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { readLines } from "../sse-reader.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import {
  badResponse,
  readStreamLine,
  readWorkflowJson,
  WORKFLOW,
  type WorkflowAnswer,
} from "./answer.js";
import { type N8nSettings, n8nSettings } from "./settings.js";

type Request = TurnRequest<N8nSettings>;

const handleOf = (sessionId: string, turns: number): RuntimeEvent => ({
  type: "handle",
  handle: { sessionId, turns },
});

/**
 * An n8n workflow behind a Webhook trigger. Each turn POSTs `{ sessionId, chatInput }`
 * (the fields n8n's Chat Trigger emits and its memory nodes key on) plus the transcript, so
 * the workflow's memory carries the conversation. n8n keeps that memory inside the
 * workflow: the handle is the `sessionId` sent (ours unless the workflow answers with its
 * own) and how many turns the workflow reported. See README.md for what a workflow can
 * report so a lost memory is noticed.
 */
export class N8nRuntime implements AgentRuntime<N8nSettings> {
  readonly type = "n8n";
  readonly settings = n8nSettings;
  private readonly dispatcher: Agent;

  /** `egress`: where workflows may be; without it, internal addresses are refused. */
  constructor(options: { egress?: EgressPolicy } = {}) {
    this.dispatcher = checkedAgent(options.egress ?? new EgressPolicy());
  }

  async *turn(request: Request): AsyncIterable<RuntimeEvent> {
    const headers: Record<string, string> = { accept: "application/json, text/plain;q=0.8" };
    const auth = request.settings.auth;
    if (auth) headers[auth.header.toLowerCase()] = await request.secrets(auth.value);

    let sessionId =
      typeof request.handle?.sessionId === "string" && request.handle.sessionId
        ? request.handle.sessionId
        : request.sessionId;
    const seen = typeof request.handle?.turns === "number" ? request.handle.turns : 0;
    yield handleOf(sessionId, seen);

    if (request.settings.response_mode === "streaming") {
      yield* this.streamed(request, headers, sessionId, seen);
      return;
    }
    let answer = await this.answer(request, headers, sessionId, request.input);
    if (!answer) return;
    let turns = seen;
    // A workflow that reports its memory's turn count tells us when that memory was lost:
    // it answered as if this were an earlier turn. Its answer ignored the conversation, so
    // the turn is asked again in a fresh memory primed with the transcript.
    if (seen > 0 && answer.turn !== undefined && answer.turn <= seen) {
      sessionId = `${request.sessionId}-${randomUUID().slice(0, 8)}`;
      turns = 0;
      yield sessionRestarted("the workflow's memory no longer had this conversation");
      yield handleOf(sessionId, turns);
      const primed = primeWithTranscript(request.transcript, request.input);
      answer = await this.answer(request, headers, sessionId, primed);
      if (!answer) return;
    }
    yield handleOf(answer.sessionId ?? sessionId, answer.turn ?? turns + 1);
    yield { type: "message", text: answer.text };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async send(
    request: Request,
    headers: Record<string, string>,
    sessionId: string,
    chatInput: string,
  ): Promise<RuntimeResponse | null> {
    const response = await callRuntime({
      what: WORKFLOW,
      url: request.settings.webhook_url,
      headers,
      body: {
        action: "sendMessage",
        sessionId,
        chatInput,
        transcript: request.transcript,
        runId: request.runId,
        attempt: request.attempt,
        agent: request.agent,
        ...(request.modelProxy ? { modelProxy: request.modelProxy } : {}),
      },
      signal: request.signal,
      timeoutSeconds: request.settings.timeout_seconds,
      dispatcher: this.dispatcher,
    });
    if (!response || (response.status >= 200 && response.status < 300)) return response;
    const text = await response.text();
    if (request.signal.aborted) return null;
    throw statusError(response.status, text);
  }

  /** One answer in the last_node or respond_to_webhook modes; null when cancelled. */
  private async answer(
    request: Request,
    headers: Record<string, string>,
    sessionId: string,
    chatInput: string,
  ): Promise<WorkflowAnswer | null> {
    const response = await this.send(request, headers, sessionId, chatInput);
    if (!response) return null;
    try {
      const text = await response.text();
      if (request.signal.aborted) return null;
      if (!text.trim()) {
        throw badResponse(
          "it sent no data; set the Webhook node's Response Data to First Entry JSON, or end the workflow with a Respond to Webhook node",
        );
      }
      const json =
        response.contentType === "application/json" || response.contentType.endsWith("+json");
      const plain =
        response.contentType.startsWith("text/") && response.contentType !== "text/html";
      if (json) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          throw badResponse("its JSON answer is not valid JSON");
        }
        if (isStartedNotice(value)) {
          throw badResponse(
            "it only said the workflow was started; set the Webhook node's Respond option to When Last Node Finishes or Using 'Respond to Webhook' Node",
          );
        }
        return readWorkflowJson(value);
      }
      if (plain && request.settings.response_mode === "respond_to_webhook") return { text };
      throw badResponse(
        `its answer is ${response.contentType || "without a content type"}, where ${
          request.settings.response_mode === "respond_to_webhook" ? "JSON or plain text" : "JSON"
        } was expected`,
      );
    } finally {
      response.dispose();
    }
  }

  /** The streaming mode: n8n's NDJSON chunks, `item` contents as deltas. */
  private async *streamed(
    request: Request,
    headers: Record<string, string>,
    sessionId: string,
    seen: number,
  ): AsyncIterable<RuntimeEvent> {
    const response = await this.send(request, headers, sessionId, request.input);
    if (!response) return;
    try {
      const type = response.contentType;
      // n8n labels its chunks application/json; proxies and versions vary, HTML never fits.
      const lines = type.endsWith("json") || type.endsWith("jsonl") || type === "text/plain";
      if (!lines) {
        throw badResponse(
          `its streamed answer is ${type || "without a content type"}, not JSON lines`,
        );
      }
      const deltas: string[] = [];
      let result: WorkflowAnswer | undefined;
      for await (const line of readLines(response.chunks())) {
        if (!line.trim()) continue;
        const parsed = readStreamLine(line);
        if (parsed.kind === "result") {
          // No node streamed: n8n sends the workflow's result as a plain JSON body instead.
          result = readWorkflowJson(parsed.value);
        } else if (parsed.type === "item" && parsed.content) {
          deltas.push(parsed.content);
          yield { type: "message_delta", text: parsed.content };
        } else if (parsed.type === "error") {
          throw new RuntimeError(
            RUNTIME_ERROR_CODES.agentFailed,
            `${WORKFLOW} reported an error: ${excerpt(parsed.content || "a node failed")}`,
          );
        }
      }
      if (request.signal.aborted) return;
      const text = deltas.length > 0 ? deltas.join("") : result?.text;
      if (text === undefined) throw badResponse("its streamed answer had no text in it");
      yield handleOf(result?.sessionId ?? sessionId, result?.turn ?? seen + 1);
      yield { type: "message", text };
    } finally {
      response.dispose();
    }
  }
}

/** n8n's answer when the Webhook node responds immediately, before the workflow ran. */
function isStartedNotice(value: unknown): boolean {
  return (
    !!value &&
    typeof value === "object" &&
    (value as Record<string, unknown>).message === "Workflow was started" &&
    Object.keys(value).length === 1
  );
}

function statusError(status: number, body: string): RuntimeError {
  if (status === 404) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `${WORKFLOW}'s webhook is not registered (HTTP 404): the workflow is not active, or the URL is n8n's test URL (/webhook-test/) instead of its production URL (/webhook/).`,
    );
  }
  if (status === 401 || status === 403) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `${WORKFLOW} refused the request (HTTP ${status}): check that spec.runtime.auth matches the Webhook node's authentication.`,
    );
  }
  return httpStatusError(WORKFLOW, status, errorDetail(body));
}
