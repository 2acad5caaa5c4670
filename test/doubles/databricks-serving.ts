import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ScriptableContractAgent } from "./contract-agent.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for a Databricks workspace serving one agent, on 127.0.0.1, shaped from:
 * - querying agents: https://docs.databricks.com/aws/en/agents/query-llms and
 *   https://docs.databricks.com/aws/generative-ai/agent-framework/query-agent (REST:
 *   `POST /serving-endpoints/{name}/invocations` with `{ input, stream?, custom_inputs? }`;
 *   Databricks Apps: `POST {app}/responses`, OAuth tokens only);
 * - stateful agents: https://docs.databricks.com/aws/en/generative-ai/agent-framework/stateful-agents-model-serving
 *   (`custom_inputs.thread_id` keys the agent's memory);
 * - the ResponsesAgent wire: mlflow/types/responses.py and responses_helpers.py (the
 *   `output` items, `usage`, `custom_outputs`; stream events `response.output_text.delta`,
 *   `response.output_item.done`, `response.completed`, `error`, as SSE `data:` lines);
 * - OAuth M2M: https://docs.databricks.com/aws/en/dev-tools/auth/oauth-m2m
 *   (`POST /oidc/v1/token`, Basic client auth, `grant_type=client_credentials&scope=all-apis`).
 * Errors are Databricks' JSON `{ error_code, message }`.
 *
 * The agent is the contract's, with a LangGraph-style memory keyed by `thread_id`; it
 * reports the thread's turn in `custom_outputs.turn` (runtimes/databricks/README.md says
 * why). Any other request is recorded in `unexpected()`.
 */
export interface DatabricksDoubleOptions {
  /** The serving endpoint's name (Model Serving), or serve as a Databricks app at /responses. */
  endpoint?: string;
  app?: boolean;
  /** A personal access token the workspace accepts. */
  token?: string;
  /** A service principal's OAuth credentials the workspace accepts. */
  oauth?: { clientId: string; clientSecret: string };
  reportsTurn?: boolean;
}

export class DatabricksWorkspaceDouble extends ScriptableContractAgent {
  private readonly issued = new Set<string>();
  /** Token requests the workspace answered, in order (grant and scope as sent). */
  readonly tokenRequests: string[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    private readonly options: DatabricksDoubleOptions,
  ) {
    super();
  }

  static async start(options: DatabricksDoubleOptions): Promise<DatabricksWorkspaceDouble> {
    const server = await startLoopbackServer((req, res) => void double.handle(req, res));
    const double = new DatabricksWorkspaceDouble(server, options);
    return double;
  }

  get url(): string {
    return this.server.url;
  }

  /** Access tokens issued so far stop being accepted (revoked, or the hour is up). */
  revokeTokens(): void {
    this.issued.clear();
  }

  // Model Serving has no way to stop a request in flight: `cancellations()` stays 0.

  async close(): Promise<void> {
    this.releaseTurns();
    await this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const route = `${req.method} ${req.url}`;
    if (req.method === "POST" && req.url === "/oidc/v1/token") return this.token(req, res, raw);
    const invocation = /^\/serving-endpoints\/([^/]+)\/invocations$/.exec(req.url ?? "");
    const agentPath = this.options.app ? req.url === "/responses" : invocation !== null;
    if (req.method !== "POST" || !agentPath) {
      this.unexpectedRequests.push(route);
      return sendJson(res, 404, { error_code: "ENDPOINT_NOT_FOUND", message: "Not found" });
    }
    if (!this.authorized(req.headers.authorization)) {
      return sendJson(res, 401, {
        error_code: "UNAUTHENTICATED",
        message: "Credential was not sent or was of an unsupported type for this API.",
      });
    }
    const name = invocation?.[1] && decodeURIComponent(invocation[1]);
    if (!this.options.app && name !== this.options.endpoint) {
      return sendJson(res, 404, {
        error_code: "RESOURCE_DOES_NOT_EXIST",
        message: `Endpoint with name '${name}' does not exist.`,
      });
    }
    const received = this.receive(req, raw);
    if (!received)
      return sendJson(res, 400, { error_code: "BAD_REQUEST", message: "Malformed JSON" });
    if (this.answeredByScript(res, received)) return;
    if (this.failsThisTurn()) {
      return sendJson(res, 503, {
        error_code: "TEMPORARILY_UNAVAILABLE",
        message: `The service at ${req.url} is temporarily unavailable. Please try again later.`,
      });
    }
    const { body } = received;
    const threadId = body.custom_inputs?.thread_id;
    const last = Array.isArray(body.input) ? body.input.at(-1) : undefined;
    if (typeof threadId !== "string" || last?.role !== "user" || typeof last.content !== "string") {
      this.unexpectedRequests.push(`${route} without input messages and custom_inputs.thread_id`);
      return sendJson(res, 400, {
        error_code: "BAD_REQUEST",
        message: "Model is missing inputs ['input'].",
      });
    }
    const { turn, answer } = this.answerTurn(threadId, last.content);
    await this.whileHeld(() => new Promise((resolve) => res.on("close", resolve)));
    if (res.destroyed) return;
    const customOutputs = {
      thread_id: threadId,
      ...(this.options.reportsTurn === false ? {} : { turn }),
    };
    const usage = {
      input_tokens: 12 + last.content.length,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: answer.split(" ").length,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 12 + last.content.length + answer.split(" ").length,
    };
    const item = outputMessage(`msg_${randomUUID().slice(0, 8)}`, answer);
    if (body.stream === true) return streamAnswer(res, item, answer, customOutputs, usage);
    return sendJson(res, 200, {
      object: "response",
      id: `resp_${randomUUID().slice(0, 12)}`,
      output: [item],
      usage,
      custom_outputs: customOutputs,
    });
  }

  private authorized(header: string | undefined): boolean {
    const token = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
    if (!token) return false;
    if (this.options.app) return this.issued.has(token);
    return token === this.options.token || this.issued.has(token);
  }

  private token(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const form = new URLSearchParams(raw);
    const expected = this.options.oauth;
    const basic = expected
      ? `Basic ${Buffer.from(`${expected.clientId}:${expected.clientSecret}`).toString("base64")}`
      : undefined;
    const formOk =
      req.headers["content-type"] === "application/x-www-form-urlencoded" &&
      form.get("grant_type") === "client_credentials";
    if (!formOk) {
      this.unexpectedRequests.push(`POST /oidc/v1/token with ${raw}`);
      sendJson(res, 400, { error: "invalid_request" });
      return;
    }
    this.tokenRequests.push(`${form.get("grant_type")} ${form.get("scope")}`);
    if (!basic || req.headers.authorization !== basic) {
      sendJson(res, 401, {
        error: "invalid_client",
        error_description: "Client authentication failed",
      });
      return;
    }
    const accessToken = `eyJ-double-${randomUUID()}`;
    this.issued.add(accessToken);
    sendJson(res, 200, {
      access_token: accessToken,
      scope: form.get("scope") ?? "all-apis",
      token_type: "Bearer",
      expires_in: 3600,
    });
  }
}

function outputMessage(id: string, text: string) {
  return {
    type: "message",
    id,
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** One server-sent event as Model Serving writes a ResponsesAgentStreamEvent. */
export function databricksEvent(event: Record<string, unknown>): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}

/** The answer as a ResponsesAgent's predict_stream sends it: deltas, the item, completion. */
async function streamAnswer(
  res: ServerResponse,
  item: ReturnType<typeof outputMessage>,
  answer: string,
  customOutputs: Record<string, unknown>,
  usage: Record<string, unknown>,
): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const word of answer.split(/(?<= )/)) {
    if (res.destroyed) return;
    res.write(
      databricksEvent({
        type: "response.output_text.delta",
        item_id: item.id,
        delta: word,
        output_index: 0,
        content_index: 0,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  res.write(
    databricksEvent({
      type: "response.output_item.done",
      item,
      output_index: 0,
      custom_outputs: customOutputs,
    }),
  );
  res.end(
    databricksEvent({
      type: "response.completed",
      response: {
        object: "response",
        output: [item],
        status: "completed",
        usage,
        custom_outputs: customOutputs,
      },
    }),
  );
}
