/**
 * Sends a burst of signed Slack events from a process of its own and prints each one's
 * acknowledgement latency as JSON. Run apart from the bench's main process, which also
 * hosts the Slack Web API double: measured from there, a burst's acks wait behind the
 * double's own work and the figures say more about the bench than about Switchboard.
 *
 *   tsx bench/slack/burst-sender.ts FILE   (FILE: { url, secret, bodies: string[] })
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "undici";

const { url, secret, bodies } = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as {
  url: string;
  secret: string;
  bodies: string[];
};

async function send(body: string): Promise<{ sentAt: number; ack: number; status: number }> {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  const sentAt = Date.now();
  const started = performance.now();
  const response = await request(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": signature,
    },
    body,
  });
  await response.body.dump();
  return { sentAt, ack: performance.now() - started, status: response.statusCode };
}

const results = await Promise.all(bodies.map(send));
process.stdout.write(JSON.stringify(results));
