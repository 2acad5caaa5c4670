/**
 * Sends activities to /api/messages from a process of its own and prints each one's HTTP
 * answer latency as JSON, as bench/slack/burst-sender.ts does for Slack (see there why: a
 * sender in the bench's main process, which also hosts the doubles, times itself). Each
 * request carries its Bot Connector token, signed beforehand by the bench.
 *
 *   tsx bench/teams/burst-sender.ts FILE   (FILE: { url, requests: {body, token}[], gapMs? })
 */
import { readFileSync } from "node:fs";
import { connect } from "node:net";

interface Result {
  sentAt: number;
  ack: number;
  status: number;
}

const { url, requests, gapMs } = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as {
  url: string;
  requests: { body: string; token: string }[];
  gapMs?: number;
};
const target = new URL(url);

function rawRequest({ body, token }: { body: string; token: string }): Buffer {
  const head = [
    `POST ${target.pathname} HTTP/1.1`,
    `host: ${target.host}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    `authorization: Bearer ${token}`,
  ].join("\r\n");
  return Buffer.from(`${head}\r\n\r\n${body}`);
}

function send(request: Buffer): Promise<Result> {
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
      socket.destroy();
      resolve({ sentAt, ack, status });
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("the connection closed without an answer")));
  });
}

async function oneAtATime(gap: number): Promise<Result[]> {
  const results: Result[] = [];
  for (const request of requests) {
    results.push(await send(rawRequest(request)));
    await new Promise((resolve) => setTimeout(resolve, gap));
  }
  return results;
}

const results =
  gapMs === undefined
    ? await Promise.all(requests.map(rawRequest).map(send))
    : await oneAtATime(gapMs);
process.stdout.write(JSON.stringify(results));
