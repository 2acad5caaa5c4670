/**
 * Sends activities to /api/messages from a process of its own and prints each one's HTTP
 * answer latency as JSON, as bench/slack/burst-sender.ts does for Slack (see there why: a
 * sender in the bench's main process, which also hosts the doubles, times itself). Each
 * request carries its Bot Connector token, signed beforehand by the bench.
 *
 *   tsx bench/teams/burst-sender.ts FILE   (FILE: { url, requests: {body, token}[], gapMs? })
 */
import { readFileSync } from "node:fs";
import { sendRequests } from "../raw-sender.js";

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

const results = await sendRequests(target, requests, rawRequest, gapMs);
process.stdout.write(JSON.stringify(results));
