import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

/** One turn as the agent received it. `at` is `performance.now()` in the bench's process. */
export interface Arrival {
  at: number;
  runId: string;
  sessionId: string;
  attempt: number;
  input: string;
  /** Messages of earlier turns Switchboard sent along (two per succeeded turn). */
  memory: number;
}

/**
 * A tiny agent behind the HTTP runtime contract (runtimes/http/CONTRACT.md), in the bench's
 * own process so its clock is the bench's: it notes when each turn's request arrives, then
 * answers JSON (after `delayMs`, 0: at once) with the turn number it works out from the
 * memory it was sent, and one usage entry.
 */
export class BenchAgent {
  readonly arrivals: Arrival[] = [];
  private readonly waiters = new Map<string, (arrival: Arrival) => void>();

  private constructor(
    private readonly server: Server,
    private readonly delayMs: number,
  ) {}

  static async start(delayMs = 0): Promise<BenchAgent> {
    const server = createServer();
    const agent = new BenchAgent(server, delayMs);
    server.on("request", (req, res) => {
      const at = performance.now();
      let raw = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => {
        raw += chunk;
      });
      req.on("end", () => {
        const body = JSON.parse(raw) as {
          run_id: string;
          session_id: string;
          attempt: number;
          input: string;
          transcript?: unknown[];
        };
        const arrival: Arrival = {
          at,
          runId: body.run_id,
          sessionId: body.session_id,
          attempt: body.attempt,
          input: body.input,
          memory: body.transcript?.length ?? 0,
        };
        agent.arrivals.push(arrival);
        agent.waiters.get(arrival.runId)?.(arrival);
        agent.waiters.delete(arrival.runId);
        const answer = JSON.stringify({
          output: `turn ${arrival.memory / 2 + 1}: ${arrival.input}`,
          usage: { model: "bench", input_tokens: 3, output_tokens: 4, cost_usd: 0.0001 },
        });
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(200, { "content-type": "application/json" }).end(answer);
        };
        if (agent.delayMs > 0) setTimeout(send, agent.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return agent;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/turn`;
  }

  /** The first arrival of the run's turn: at once if it has come already. */
  waitFor(runId: string, timeoutMs = 30_000): Promise<Arrival> {
    const seen = this.arrivals.find((arrival) => arrival.runId === runId);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(runId);
        reject(new Error(`the agent never received run ${runId}`));
      }, timeoutMs);
      this.waiters.set(runId, (arrival) => {
        clearTimeout(timer);
        resolve(arrival);
      });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
