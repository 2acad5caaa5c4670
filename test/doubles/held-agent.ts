import type { IncomingMessage, ServerResponse } from "node:http";
import { HeldTurns } from "../support/held-turns.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/** One turn as the agent received it. */
export interface HeldAgentTurn {
  input: string;
  runId: string;
  attempt: number;
  /** The model proxy key Switchboard handed this attempt, when a proxy is configured. */
  modelProxy?: { base_url: string; api_key: string };
}

/**
 * A slow agent on the HTTP runtime contract (runtimes/http/CONTRACT.md), on 127.0.0.1:
 * `POST /agent` holds each turn until the test releases it by its input (`<person>-<n>`),
 * then answers JSON `{ output: "done <input>" }`. A turn whose caller goes away (its worker
 * was killed) ends there. Anything else is recorded in `unexpected`.
 */
export class HeldAgentDouble {
  readonly turns: HeldAgentTurn[] = [];
  readonly unexpected: string[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    /** Started, released and counted (the most held at once, per person). */
    readonly held: HeldTurns,
  ) {}

  static async start(held = new HeldTurns()): Promise<HeldAgentDouble> {
    const server = await startLoopbackServer((req, res) => void double.handle(req, res));
    const double = new HeldAgentDouble(server, held);
    return double;
  }

  get url(): string {
    return `${this.server.url}/agent`;
  }

  /** A manifest of an agent on this double (HTTP runtime) that everyone may run. */
  manifest(name: string): string {
    return `apiVersion: switchboard/v1
kind: Agent
metadata: { name: ${name}, title: Held agent, owner: team:platform }
spec:
  runtime: { type: http, url: "${this.url}" }
  access: { view: ["user:*"], run: ["user:*"] }
`;
  }

  async close(): Promise<void> {
    this.held.releaseAll();
    await this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST" || req.url !== "/agent") {
      this.unexpected.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(await readBody(req));
    this.turns.push({
      input: body.input,
      runId: body.run_id,
      attempt: body.attempt,
      modelProxy: body.model_proxy,
    });
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    await this.held.hold(body.input, gone.signal);
    if (gone.signal.aborted) return;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ output: `done ${body.input}` }));
  }
}
