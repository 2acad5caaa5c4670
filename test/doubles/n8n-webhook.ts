import type { IncomingMessage, ServerResponse } from "node:http";
import { ScriptableContractAgent } from "./contract-agent.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for an n8n instance with one active workflow behind a Webhook trigger
 * at `POST /webhook/<path>`, on 127.0.0.1. The workflow is the contract's agent with a
 * memory node keyed by the body's `sessionId` (as n8n's Simple Memory is), answering
 * `You said "<chatInput>" (turn <N>)`.
 *
 * How it answers follows the Webhook node's "Respond" option, on n8n's real wire:
 * - `last_node`: the last node's first item as JSON, `{ output, turn }` (an AI Agent's
 *   `output`, plus a `turn` a Set node added);
 * - `respond_to_webhook`: what a Respond to Webhook node sends, `{ text, turn }` as JSON or
 *   the bare text as text/plain;
 * - `streaming`: n8n's chunked NDJSON, `{"type":"begin"|"item"|"end", "content", "metadata"}`
 *   one per line, the answer in several `item` chunks.
 *
 * Errors look like n8n's: 404 `{"code":404,"message":"The requested webhook ... is not
 * registered."}` for an unknown path or an inactive workflow, 403 "Authorization data is
 * wrong!" for a bad header-auth value. Requests for other paths or methods are recorded in
 * `unexpected()`.
 */
export type N8nResponseMode = "last_node" | "respond_to_webhook" | "streaming";

export interface N8nWebhookOptions {
  mode: N8nResponseMode;
  /** The webhook's path (the part after /webhook/). */
  path?: string;
  /** Header auth the Webhook node requires. */
  auth?: { header: string; value: string };
  /** For respond_to_webhook: send the bare answer as text/plain instead of JSON. */
  plainText?: boolean;
  /** Whether the workflow reports its memory's turn count (see runtimes/n8n/README.md). */
  reportsTurn?: boolean;
}

export class N8nWebhookDouble extends ScriptableContractAgent {
  private registered = true;

  private constructor(
    private readonly server: LoopbackServer,
    readonly url: string,
    private readonly options: N8nWebhookOptions,
  ) {
    super();
  }

  static async start(options: N8nWebhookOptions): Promise<N8nWebhookDouble> {
    const path = options.path ?? "contract-agent";
    const server = await startLoopbackServer((req, res) => void double.handle(req, res, path));
    const double = new N8nWebhookDouble(server, `${server.url}/webhook/${path}`, options);
    return double;
  }

  /** The webhook URL of an unknown path on the same instance (n8n answers 404). */
  get unknownPathUrl(): string {
    return this.url.replace(/\/webhook\/.*$/, "/webhook/no-such-workflow");
  }

  /** The workflow is deactivated: its webhook answers 404 as n8n does. */
  deactivate(): void {
    this.registered = false;
  }

  // A webhook caller cannot stop an n8n execution, so `cancellations()` stays 0.

  override reset(): void {
    super.reset();
    this.registered = true;
  }

  async close(): Promise<void> {
    this.releaseTurns();
    await this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    const route = `${req.method} ${req.url}`;
    if (req.method !== "POST" || req.url !== `/webhook/${path}` || !this.registered) {
      if (this.registered) this.unexpectedRequests.push(route);
      const name = (req.url ?? "").replace(/^\/webhook\//, "");
      return sendJson(res, 404, {
        code: 404,
        message: `The requested webhook "${req.method} ${name}" is not registered.`,
        hint: "The workflow must be active for a production URL to run successfully.",
      });
    }
    const received = this.receive(req, raw);
    if (!received) return sendJson(res, 422, { message: "The body must be JSON" });
    const { body } = received;

    const auth = this.options.auth;
    if (auth && req.headers[auth.header.toLowerCase()] !== auth.value) {
      res.writeHead(403, { "content-type": "text/plain; charset=utf-8" });
      return void res.end("Authorization data is wrong!");
    }
    if (this.answeredByScript(res, received)) return;
    if (this.failsThisTurn()) {
      return sendJson(res, 503, { code: 503, message: "Service Unavailable" });
    }
    if (typeof body.sessionId !== "string" || typeof body.chatInput !== "string") {
      this.unexpectedRequests.push(`${route} without sessionId and chatInput`);
      return sendJson(res, 500, { message: "Error in workflow" });
    }

    // The memory node (the contract agent's sessions) loads the session's history first.
    const { turn, answer } = this.answerTurn(body.sessionId, body.chatInput);
    await this.whileHeld(() => new Promise((resolve) => res.on("close", resolve)));
    if (res.destroyed) return;
    const reportsTurn = this.options.reportsTurn ?? true;
    const extra = reportsTurn ? { turn } : {};

    switch (this.options.mode) {
      case "last_node":
        return sendJson(res, 200, { output: answer, ...extra });
      case "respond_to_webhook":
        if (this.options.plainText) {
          res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
          return void res.end(answer);
        }
        return sendJson(res, 200, { text: answer, ...extra });
      case "streaming":
        return streamAnswer(res, answer);
    }
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

/** One n8n streaming chunk as it goes on the wire: a JSON object and a newline. */
export function n8nChunk(type: "begin" | "item" | "end" | "error", content?: string): string {
  const metadata = {
    nodeId: "4f1c2e0a-agent",
    nodeName: "AI Agent",
    timestamp: Date.now(),
    runIndex: 0,
    itemIndex: 0,
  };
  return `${JSON.stringify(content === undefined ? { type, metadata } : { type, content, metadata })}\n`;
}

/** The answer as n8n streams an AI Agent's output: begin, items word by word, end. */
async function streamAnswer(res: ServerResponse, answer: string): Promise<void> {
  res.writeHead(200, {
    "content-type": "application/json; charset=utf-8",
    "transfer-encoding": "chunked",
    "cache-control": "no-cache",
  });
  res.write(n8nChunk("begin"));
  for (const word of answer.split(/(?<= )/)) {
    if (res.destroyed) return;
    res.write(n8nChunk("item", word));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  res.end(n8nChunk("end"));
}
