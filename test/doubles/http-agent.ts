import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AgentDouble } from "../runtime-contract/fixture.js";

/**
 * A home-grown agent that follows runtimes/http/CONTRACT.md, on 127.0.0.1: `POST /agent`
 * takes `{ session_id, runtime_session, input, transcript, run_id, attempt }` and answers
 * the contract's agent, `You said "<input>" (turn <N>)`, N counting the turns of its own
 * session (`runtime_session`, which it makes up on a first turn).
 *
 * With `stream: false` it answers JSON `{ output, runtime_session, usage }`; with
 * `stream: true` it answers `text/event-stream`: `session` (with a `cancel_url`), `status`,
 * several `delta`s, `usage`, `done`. A `runtime_session` it does not know gets 409
 * `session_not_found`. `POST /agent/runs/<run_id>/cancel` counts as a cancellation. Anything
 * else is recorded in `unexpected()`.
 */
export interface HttpAgentOptions {
  stream: boolean;
  /** Headers every request must carry (401 otherwise). */
  requireHeaders?: Record<string, string>;
}

export interface ReceivedAgentRequest {
  headers: IncomingMessage["headers"];
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on what the agent received.
  body: any;
}

/** A scripted answer for the next `POST /agent`, replacing the agent's (adapter tests). */
export type ScriptedReply = (res: ServerResponse, received: ReceivedAgentRequest) => void;

export class HttpAgentDouble implements AgentDouble {
  readonly received: ReceivedAgentRequest[] = [];
  private readonly sessions = new Map<string, number>();
  private readonly answered: Array<{ runtimeSession: string; text: string }> = [];
  private readonly unexpectedRequests: string[] = [];
  private readonly scripted: ScriptedReply[] = [];
  private cancelled = 0;
  private failures = 0;
  private holding = false;
  private readonly waiting = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: HttpAgentOptions,
  ) {}

  static async start(options: HttpAgentOptions): Promise<HttpAgentDouble> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const double = new HttpAgentDouble(server, `http://127.0.0.1:${port}/agent`, options);
    server.on("request", (req, res) => void double.handle(req, res));
    return double;
  }

  scriptNext(reply: ScriptedReply): void {
    this.scripted.push(reply);
  }

  turns() {
    return this.answered;
  }
  forgetSessions(): void {
    this.sessions.clear();
  }
  failNextTurns(count: number): void {
    this.failures += count;
  }
  holdTurns(): void {
    this.holding = true;
  }
  releaseTurns(): void {
    this.holding = false;
    for (const release of this.waiting) release();
    this.waiting.clear();
  }
  cancellations(): number {
    return this.cancelled;
  }
  unexpected(): readonly string[] {
    return this.unexpectedRequests;
  }
  reset(): void {
    this.sessions.clear();
    this.answered.length = 0;
    this.received.length = 0;
    this.unexpectedRequests.length = 0;
    this.scripted.length = 0;
    this.cancelled = 0;
    this.failures = 0;
  }

  async close(): Promise<void> {
    this.releaseTurns();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const route = `${req.method} ${req.url}`;
    if (req.method === "POST" && /^\/agent\/runs\/[^/]+\/cancel$/.test(req.url ?? "")) {
      this.cancelled++;
      return void res.writeHead(202).end();
    }
    if (req.method !== "POST" || req.url !== "/agent") {
      this.unexpectedRequests.push(route);
      return sendJson(res, 404, { message: "Not found" });
    }
    // biome-ignore lint/suspicious/noExplicitAny: whatever the caller sent.
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      this.unexpectedRequests.push(`${route} with a body that is not JSON`);
      return sendJson(res, 400, { message: "The body must be JSON" });
    }
    const received = { headers: req.headers, body };
    this.received.push(received);
    for (const [name, value] of Object.entries(this.options.requireHeaders ?? {})) {
      if (req.headers[name.toLowerCase()] !== value) {
        return sendJson(res, 401, { message: "Missing or wrong credentials" });
      }
    }
    const scripted = this.scripted.shift();
    if (scripted) return scripted(res, received);
    if (this.failures > 0) {
      this.failures--;
      return sendJson(res, 503, { message: "The agent is busy, try again" });
    }
    if (!isContractRequest(body)) {
      this.unexpectedRequests.push(`${route} with a body outside the contract`);
      return sendJson(res, 400, { message: "The body does not follow the contract" });
    }

    let session = body.runtime_session;
    if (session !== null && !this.sessions.has(session)) {
      return sendJson(res, 409, {
        code: "session_not_found",
        message: `No session ${session} here`,
      });
    }
    session ??= `agent-session-${randomUUID()}`;
    const turn = (this.sessions.get(session) ?? 0) + 1;
    this.sessions.set(session, turn);
    this.answered.push({ runtimeSession: session, text: body.input });
    const answer = `You said "${body.input}" (turn ${turn})`;
    const usage = { model: "echo-1", input_tokens: body.input.length, output_tokens: turn + 5 };

    if (!this.options.stream) {
      if (!(await this.hold(res))) return;
      return sendJson(res, 200, { output: answer, runtime_session: session, usage });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(
      event("session", {
        runtime_session: session,
        cancel_url: `/agent/runs/${body.run_id}/cancel`,
      }),
    );
    if (!(await this.hold(res))) return;
    res.write(event("status", { status: "working", message: "Thinking" }));
    for (const word of answer.split(/(?<= )/)) {
      if (res.destroyed) return;
      res.write(event("delta", { text: word }));
    }
    res.write(event("usage", usage));
    res.end(event("done", { output: answer, runtime_session: session }));
  }

  /** Waits while turns are held; false when the caller went away meanwhile. */
  private async hold(res: ServerResponse): Promise<boolean> {
    if (!this.holding) return true;
    const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
      this.waiting.add(resolve);
    });
    await Promise.race([closed, released]);
    this.waiting.delete(release);
    return !res.destroyed && !res.writableEnded;
  }
}

function isContractRequest(
  body: unknown,
): body is { runtime_session: string | null; input: string; run_id: string } {
  if (!body || typeof body !== "object") return false;
  const b = body as Record<string, unknown>;
  return (
    typeof b.session_id === "string" &&
    (b.runtime_session === null || typeof b.runtime_session === "string") &&
    typeof b.input === "string" &&
    Array.isArray(b.transcript) &&
    typeof b.run_id === "string"
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** One server-sent event on the wire. */
export function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
