import type { IncomingHttpHeaders } from "node:http";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/** One request as it arrived: everything a runtime could have put a secret into. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A server an attacker controls, on 127.0.0.1: it records every request whole (method, URL,
 * headers, body) so a test can say what reached it. Under `/http/` it answers as an agent
 * behind the HTTP contract would, echoing the headers it was sent back in its answer (an
 * agent that leaks what it got); anything else gets a 404, as an unknown host would answer.
 */
export class RecordingServer {
  readonly requests: RecordedRequest[] = [];

  private constructor(private readonly server: LoopbackServer) {}

  static async start(): Promise<RecordingServer> {
    let recorder: RecordingServer | undefined;
    const server = await startLoopbackServer((req, res) => {
      void readBody(req).then((body) => {
        const request = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body,
        };
        recorder?.requests.push(request);
        if (request.method === "POST" && request.url.startsWith("/http/")) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ output: `I was sent ${JSON.stringify(req.headers)}` }));
          return;
        }
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Not found" }));
      });
    });
    recorder = new RecordingServer(server);
    return recorder;
  }

  get url(): string {
    return this.server.url;
  }

  /** The requests whose path starts with `prefix`. */
  requestsTo(prefix: string): RecordedRequest[] {
    return this.requests.filter((request) => request.url.startsWith(prefix));
  }

  /** Everything received, as one text: to look for a value anywhere in it. */
  everything(): string {
    return this.requests
      .map((r) => `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`)
      .join("\n");
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
