/**
 * Sends raw HTTP requests and times each one's answer to its status line: the part the Slack
 * and Teams burst senders share (see bench/slack/burst-sender.ts for why they write raw bytes
 * from a process of their own). Each request is built just before it is sent, so a signed
 * request's timestamp is fresh in one-at-a-time mode too.
 */
import { connect } from "node:net";

export interface SendResult {
  sentAt: number;
  ack: number;
  status: number;
}

/** Opens a connection, writes the request, resolves when the status line has come back. */
function send(target: URL, request: Buffer): Promise<SendResult> {
  return new Promise((resolve, reject) => {
    let sentAt = 0;
    let started = 0;
    const socket = connect(Number(target.port), target.hostname, () => {
      sentAt = Date.now();
      started = performance.now();
      socket.write(request);
    });
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
      const lineEnd = received.indexOf("\r\n");
      if (lineEnd === -1) return;
      const ack = performance.now() - started;
      const status = Number(received.slice(0, lineEnd).split(" ")[1]);
      // This side closes first, so the closed connection waits out TIME_WAIT here: left to
      // the server, a later burst's connection from the same port could meet it there, and
      // its SYN would be dropped and sent again a second later (the 1 s and 3 s outliers
      // seen when the request asked the server to close).
      socket.destroy();
      resolve({ sentAt, ack, status });
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("the connection closed without an answer")));
  });
}

/**
 * All at once (every request built first, then every connection opened together) or, with
 * `gapMs`, one at a time, each `gapMs` after the last answer.
 */
export async function sendRequests<T>(
  target: URL,
  items: readonly T[],
  build: (item: T) => Buffer,
  gapMs: number | undefined,
): Promise<SendResult[]> {
  if (gapMs === undefined) {
    return Promise.all(items.map(build).map((request) => send(target, request)));
  }
  const results: SendResult[] = [];
  for (const item of items) {
    results.push(await send(target, build(item)));
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return results;
}
