import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ContractAgent } from "./contract-agent.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for Kibana's Agent Builder converse API, shaped from Elastic's reference
 * and Kibana's own source:
 * - https://www.elastic.co/docs/api/doc/kibana/operation/operation-post-agent-builder-converse-async
 *   (`POST /api/agent_builder/converse/async`, `POST /s/{space_id}/api/agent_builder/converse/async`,
 *   the event types and their order: conversation_id_set, reasoning, tool_call, tool_result,
 *   thinking_complete, message_chunk, message_complete, round_complete, conversation_created);
 * - https://www.elastic.co/docs/explore-analyze/ai-features/agent-builder/kibana-api
 *   (`Authorization: ApiKey …`, the `kbn-xsrf` header, `/s/<space>` for Spaces);
 * - elastic/kibana x-pack/platform/plugins/shared/agent_builder/server/routes/chat.ts (the
 *   body schema; a round stops when its request closes) and
 *   src/platform/packages/shared/kbn-sse-utils-server/src/observable_into_event_source_stream.ts
 *   (frames `event: <type>\ndata: {"data": …}`, errors `data: {"error": {code, message}}`,
 *   `: keep-alive` comments), routes/examples/chat_converse_async.yaml (an example stream).
 * HTTP errors are Kibana's `{ statusCode, error, message }`. A POST without `kbn-xsrf`, a body
 * field the route does not take, or any other route is recorded as unexpected.
 *
 * It hosts the contract agent: each round answers `You said "<input>" (turn <N>)`, N
 * counting the conversation's rounds, in two message chunks. A conversation id it does not
 * know fails inside the stream with `conversationNotFound`, as Kibana's execution does.
 */

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are plain JSON.
type Json = any;

const BODY_FIELDS = new Set([
  "agent_id",
  "connector_id",
  "conversation_id",
  "input",
  "prompts",
  "attachments",
  "capabilities",
  "browser_api_tools",
  "configuration_overrides",
  "action",
  "_execution_mode",
  "agent_mode",
]);

/** What a round does instead of answering plainly (for the adapter's own tests). */
export type RoundScript =
  | { kind: "tool"; toolId: string; params: Json }
  /** An error event in the stream, with Kibana's code. */
  | { kind: "error"; code: string; message: string }
  /** The stream ends after the first chunk, without round_complete. */
  | { kind: "drop" }
  /** Kibana on Elastic Cloud: the stream labelled application/octet-stream. */
  | { kind: "cloud" }
  /** Kibana refuses the call before streaming, with its error body. */
  | { kind: "http"; status: number; message: string };

export interface ReceivedConverse {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Json;
}

export class AgentBuilderWireDouble extends ContractAgent {
  readonly url: string;
  readonly received: ReceivedConverse[] = [];
  private readonly conversations = new Set<string>();
  private readonly scripts: RoundScript[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    private readonly options: { apiKey: string; agents: Record<string, string[]> },
  ) {
    super();
    this.url = server.url;
  }

  /** `agents`: agent ids by space id ("default" for the default space). */
  static async start(options: {
    apiKey: string;
    agents?: Record<string, string[]>;
  }): Promise<AgentBuilderWireDouble> {
    const server = await startLoopbackServer((req, res) => {
      double.handle(req, res).catch((error: unknown) => {
        double.unexpectedRequests.push(`double failed on ${req.method} ${req.url}: ${error}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    const double = new AgentBuilderWireDouble(server, {
      apiKey: options.apiKey,
      agents: options.agents ?? { default: ["contract-agent"] },
    });
    return double;
  }

  override forgetSessions(): void {
    super.forgetSessions();
    this.conversations.clear();
  }

  override reset(): void {
    super.reset();
    this.received.length = 0;
    this.scripts.length = 0;
  }

  scriptNextRounds(...scripts: RoundScript[]): void {
    this.scripts.push(...scripts);
  }

  async close(): Promise<void> {
    this.releaseTurns();
    await this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? "/", this.url);
    const route = url.pathname.match(
      /^(?:\/s\/([a-z0-9_-]+))?\/api\/agent_builder\/converse\/async$/,
    );
    if (req.method !== "POST" || !route) {
      this.unexpectedRequests.push(`${req.method} ${url.pathname}`);
      return kibanaError(res, 404, "Not Found", "Not Found");
    }
    const space = route[1] ?? "default";
    if (req.headers.authorization !== `ApiKey ${this.options.apiKey}`) {
      return kibanaError(
        res,
        401,
        "Unauthorized",
        "[security_exception] unable to authenticate with provided credentials",
      );
    }
    if (!req.headers["kbn-xsrf"]) {
      this.unexpectedRequests.push("POST without kbn-xsrf");
      return kibanaError(res, 400, "Bad Request", "Request must contain a kbn-xsrf header.");
    }
    const agents = this.options.agents[space];
    if (!agents)
      return kibanaError(res, 404, "Not Found", `Saved object [space/${space}] not found`);
    let body: Json;
    try {
      body = JSON.parse(raw);
    } catch {
      this.unexpectedRequests.push("POST with a body that is not JSON");
      return kibanaError(res, 400, "Bad Request", "[request body]: expected a plain object value");
    }
    const extra = Object.keys(body ?? {}).filter((key) => !BODY_FIELDS.has(key));
    if (extra.length > 0 || typeof body.input !== "string") {
      this.unexpectedRequests.push(`POST with ${JSON.stringify(body)}`);
      return kibanaError(
        res,
        400,
        "Bad Request",
        `[request body.${extra[0] ?? "input"}]: definition for this key is missing`,
      );
    }
    this.received.push({ path: url.pathname, headers: req.headers, body });
    if (this.failsThisTurn()) {
      return kibanaError(res, 503, "Service Unavailable", "Kibana server is not ready yet");
    }
    if (!agents.includes(body.agent_id)) {
      return kibanaError(res, 404, "Not Found", `Agent ${body.agent_id} not found`);
    }
    return this.converse(res, body);
  }

  private async converse(res: ServerResponse, body: Json): Promise<void> {
    const script = this.scripts.shift();
    if (script?.kind === "http") {
      return kibanaError(res, script.status, "Error", script.message);
    }
    res.writeHead(200, {
      "content-type": script?.kind === "cloud" ? "application/octet-stream" : "text/event-stream",
      "cache-control": "no-cache",
      "content-encoding": "identity",
      "x-accel-buffering": "no",
    });
    res.write(": keep-alive\n");
    const existing = typeof body.conversation_id === "string" ? body.conversation_id : undefined;
    if (existing && !this.conversations.has(existing)) {
      send(res, "error", {
        error: {
          code: "conversationNotFound",
          message: `Conversation ${existing} not found`,
          meta: { statusCode: 404 },
        },
      });
      res.end();
      return;
    }
    const conversationId = existing ?? randomUUID();
    if (!existing) send(res, "conversation_id_set", { data: { conversation_id: conversationId } });
    const { turn, answer } = this.answerTurn(conversationId, body.input);
    send(res, "reasoning", { data: { reasoning: "Answering directly.", transient: false } });
    let closed = false;
    const hungUp = new Promise<void>((resolve) =>
      res.on("close", () => {
        closed = true;
        resolve();
      }),
    );
    const released = await this.whileHeld(() => hungUp);
    if (!released || closed) {
      // Kibana aborts the round when its request closes: nothing is saved.
      this.countCancellation();
      return;
    }
    if (script?.kind === "tool") {
      send(res, "tool_call", {
        data: { tool_call_id: "tooluse_1", tool_id: script.toolId, params: script.params },
      });
      send(res, "tool_result", {
        data: { tool_call_id: "tooluse_1", tool_id: script.toolId, results: [] },
      });
    }
    if (script?.kind === "error") {
      send(res, "error", { error: { code: script.code, message: script.message } });
      res.end();
      return;
    }
    send(res, "thinking_complete", { data: { time_to_first_token: 12 } });
    const messageId = randomUUID();
    const cut = Math.ceil(answer.length / 2);
    send(res, "message_chunk", {
      data: { message_id: messageId, text_chunk: answer.slice(0, cut) },
    });
    if (script?.kind === "drop") {
      res.end();
      return;
    }
    send(res, "message_chunk", { data: { message_id: messageId, text_chunk: answer.slice(cut) } });
    send(res, "message_complete", { data: { message_id: messageId, message_content: answer } });
    send(res, "round_complete", {
      data: {
        round: {
          id: randomUUID(),
          status: "completed",
          input: { message: body.input },
          steps: [],
          response: { message: answer },
          started_at: new Date().toISOString(),
          time_to_first_token: 12,
          time_to_last_token: 40,
          model_usage: {
            connector_id: "Elastic-Managed-LLM",
            llm_calls: 1,
            input_tokens: body.input.split(/\s+/).length + 100,
            output_tokens: answer.split(/\s+/).length,
            model: "rainbow-sprinkles",
          },
        },
      },
    });
    this.conversations.add(conversationId);
    const event = existing ? "conversation_updated" : "conversation_created";
    send(res, event, { data: { conversation_id: conversationId, title: `Turn ${turn}` } });
    res.end();
  }
}

function send(res: ServerResponse, event: string, data: Json): void {
  if (!res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function kibanaError(
  res: ServerResponse,
  statusCode: number,
  error: string,
  message: string,
): void {
  res.writeHead(statusCode, { "content-type": "application/json" });
  res.end(JSON.stringify({ statusCode, error, message }));
}
