/**
 * Sends a burst of signed Slack events from a process of its own and prints each one's
 * acknowledgement latency as JSON. Run apart from the bench's main process, which also
 * hosts the Slack Web API double: measured from there, a burst's acks wait behind the
 * double's own work and the figures say more about the bench than about Switchboard.
 *
 * Every request is signed and made into raw bytes first; then all connections are opened
 * at once, each writes its request as soon as it connects, and each acknowledgement is
 * timed from that write, as Slack times it. Through an HTTP client library the sender
 * measured mostly itself: from a freshly started Node process, 200 requests through undici
 * took about 120 ms to be answered by a server that does nothing at all, as the client
 * spent that long sending them.
 *
 * With `gapMs`, the requests go one at a time instead, each `gapMs` after the last answer.
 *
 *   tsx bench/slack/burst-sender.ts FILE   (FILE: { url, secret, bodies: string[], gapMs? })
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { sendRequests } from "../raw-sender.js";

const { url, secret, bodies, gapMs } = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as {
  url: string;
  secret: string;
  bodies: string[];
  gapMs?: number;
};
const target = new URL(url);

function signedRequest(body: string): Buffer {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  const head = [
    `POST ${target.pathname} HTTP/1.1`,
    `host: ${target.host}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    `x-slack-request-timestamp: ${timestamp}`,
    `x-slack-signature: ${signature}`,
  ].join("\r\n");
  return Buffer.from(`${head}\r\n\r\n${body}`);
}

const results = await sendRequests(target, bodies, signedRequest, gapMs);
process.stdout.write(JSON.stringify(results));
