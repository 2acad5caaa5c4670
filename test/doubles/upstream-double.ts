import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for a model provider's HTTP API (OpenAI, Anthropic, Bedrock), on
 * 127.0.0.1. A test lists the requests it expects, in order, each with its reply; any other
 * request is answered 599 and recorded, and `verify()` (call it in afterEach) fails the test
 * on it, or on an expected request that never came.
 */

// biome-ignore lint/suspicious/noExplicitAny: request bodies are asserted on by the tests.
export type Json = any;

export interface ReceivedRequest {
  method: string;
  path: string;
  /** The path with its query string. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Json;
  raw: string;
}

export interface ReplyContext {
  req: IncomingMessage;
  res: ServerResponse;
  request: ReceivedRequest;
}

export type Reply = (ctx: ReplyContext) => void | Promise<void>;

interface Expectation {
  route: string;
  reply: Reply;
  received: (request: ReceivedRequest) => void;
}

export class UpstreamDouble {
  readonly received: ReceivedRequest[] = [];
  readonly unexpected: string[] = [];
  private readonly expectations: Expectation[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    readonly name: string,
  ) {}

  static async start(name: string): Promise<UpstreamDouble> {
    const server = await startLoopbackServer((req, res) => void double.handle(req, res));
    const double = new UpstreamDouble(server, name);
    return double;
  }

  get url(): string {
    return this.server.url;
  }

  /** Expects `METHOD /path` next; resolves with the request once it arrives. */
  expect(route: string, reply: Reply): Promise<ReceivedRequest> {
    return new Promise((resolve) => {
      this.expectations.push({ route, reply, received: resolve });
    });
  }

  get pending(): number {
    return this.expectations.length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? "/").split("?")[0] as string;
    let body: Json;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const request: ReceivedRequest = {
      method: req.method ?? "",
      path,
      url: req.url ?? "/",
      headers: req.headers,
      body,
      raw,
    };
    this.received.push(request);
    const route = `${req.method} ${path}`;
    const next = this.expectations[0];
    if (!next || next.route !== route) {
      this.unexpected.push(route);
      res
        .writeHead(599, { "content-type": "application/json" })
        .end('{"error":"unexpected request"}');
      return;
    }
    this.expectations.shift();
    next.received(request);
    await next.reply({ req, res, request });
  }

  /** Throws when a request came that was not expected, or an expected one did not come. */
  verify(): void {
    const problems: string[] = [];
    if (this.unexpected.length) problems.push(`unexpected requests: ${this.unexpected.join(", ")}`);
    if (this.expectations.length) {
      problems.push(
        `expected but not received: ${this.expectations.map((e) => e.route).join(", ")}`,
      );
    }
    this.unexpected.length = 0;
    this.expectations.length = 0;
    if (problems.length) throw new Error(`${this.name} double: ${problems.join("; ")}`);
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}

/** Replies with a JSON body. */
export const json =
  (status: number, body: Json, headers: Record<string, string> = {}): Reply =>
  ({ res }) => {
    res
      .writeHead(status, { "content-type": "application/json", ...headers })
      .end(JSON.stringify(body));
  };

/** Replies with server-sent events, one write each (`await gate` between events when given). */
export const sse =
  (events: string[], gate?: (index: number) => Promise<void>): Reply =>
  async ({ res }) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const [index, event] of events.entries()) {
      if (gate) await gate(index);
      if (res.destroyed) return;
      res.write(event);
    }
    res.end();
  };

/** Never answers (a hung upstream); the connection stays open until the test closes. */
export const hang = (): Reply => () => {};

/** Drops the connection without a response. */
export const reset =
  (): Reply =>
  ({ req }) => {
    req.socket.destroy();
  };

/** Answers with bytes that are not HTTP, then closes. */
export const garbage =
  (): Reply =>
  ({ req }) => {
    req.socket.end("this is not an HTTP response\r\n\r\n");
  };

export function sseEvent(data: Json, event?: string): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
}
