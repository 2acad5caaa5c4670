import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ScriptableContractAgent } from "./contract-agent.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

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

export class HttpAgentDouble extends ScriptableContractAgent {
  private constructor(
    private readonly server: LoopbackServer,
    readonly url: string,
    private readonly options: HttpAgentOptions,
  ) {
    super();
  }

  static async start(options: HttpAgentOptions): Promise<HttpAgentDouble> {
    const server = await startLoopbackServer((req, res) => void double.handle(req, res));
    const double = new HttpAgentDouble(server, `${server.url}/agent`, options);
    return double;
  }

  async close(): Promise<void> {
    this.releaseTurns();
    await this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const route = `${req.method} ${req.url}`;
    if (req.method === "POST" && /^\/agent\/runs\/[^/]+\/cancel$/.test(req.url ?? "")) {
      this.countCancellation();
      return void res.writeHead(202).end();
    }
    if (req.method !== "POST" || req.url !== "/agent") {
      this.unexpectedRequests.push(route);
      return sendJson(res, 404, { message: "Not found" });
    }
    const received = this.receive(req, raw);
    if (!received) return sendJson(res, 400, { message: "The body must be JSON" });
    const { body } = received;
    for (const [name, value] of Object.entries(this.options.requireHeaders ?? {})) {
      if (req.headers[name.toLowerCase()] !== value) {
        return sendJson(res, 401, { message: "Missing or wrong credentials" });
      }
    }
    if (this.answeredByScript(res, received)) return;
    if (this.failsThisTurn()) {
      return sendJson(res, 503, { message: "The agent is busy, try again" });
    }
    if (!isContractRequest(body)) {
      this.unexpectedRequests.push(`${route} with a body outside the contract`);
      return sendJson(res, 400, { message: "The body does not follow the contract" });
    }

    let session = body.runtime_session;
    if (session !== null && !this.knowsSession(session)) {
      return sendJson(res, 409, {
        code: "session_not_found",
        message: `No session ${session} here`,
      });
    }
    session ??= `agent-session-${randomUUID()}`;
    const { turn, answer } = this.answerTurn(session, body.input);
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
    await this.whileHeld(() => new Promise((resolve) => res.on("close", resolve)));
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
