import { crc32 } from "node:zlib";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Json, ReceivedRequest, Reply } from "./upstream-double.js";

/** Bedrock Runtime's Converse wire format, and a check of the SigV4 signature it requires. */

export function converseAnswer(options: {
  text?: string;
  toolUse?: { toolUseId: string; name: string; input: Json };
  inputTokens?: number;
  outputTokens?: number;
}): Json {
  const content: Json[] = [];
  if (options.text) content.push({ text: options.text });
  if (options.toolUse) content.push({ toolUse: options.toolUse });
  const input = options.inputTokens ?? 15;
  const output = options.outputTokens ?? 7;
  return {
    output: { message: { role: "assistant", content } },
    stopReason: options.toolUse ? "tool_use" : "end_turn",
    usage: { inputTokens: input, outputTokens: output, totalTokens: input + output },
    metrics: { latencyMs: 100 },
  };
}

const event = (type: string, payload: Json) =>
  encodeEventStreamMessage(
    { ":event-type": type, ":content-type": "application/json", ":message-type": "event" },
    JSON.stringify(payload),
  );

/** A ConverseStream answer as AWS event stream messages. */
export function converseStream(options: {
  pieces: string[];
  inputTokens?: number;
  outputTokens?: number;
}): Buffer[] {
  const messages = [event("messageStart", { role: "assistant" })];
  for (const text of options.pieces)
    messages.push(event("contentBlockDelta", { contentBlockIndex: 0, delta: { text } }));
  messages.push(event("contentBlockStop", { contentBlockIndex: 0 }));
  messages.push(event("messageStop", { stopReason: "end_turn" }));
  messages.push(
    event("metadata", {
      usage: {
        inputTokens: options.inputTokens ?? 15,
        outputTokens: options.outputTokens ?? 7,
        totalTokens: 22,
      },
      metrics: { latencyMs: 100 },
    }),
  );
  return messages;
}

/** Replies with event stream messages, one write each. */
export const eventStream =
  (messages: Buffer[]): Reply =>
  ({ res }) => {
    res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream" });
    for (const message of messages) res.write(message);
    res.end();
  };

/** True when the request carries a valid SigV4 signature for these credentials. */
export async function hasValidSignature(
  request: ReceivedRequest,
  credentials: { accessKeyId: string; secretAccessKey: string; region: string },
  origin: string,
): Promise<boolean> {
  const url = new URL(origin);
  const amzDate = String(request.headers["x-amz-date"]);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials,
    region: credentials.region,
    service: "bedrock",
    sha256: Hash.bind(null, "sha256"),
  });
  const rawPath = request.path;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: rawPath,
      headers: {
        host: String(request.headers.host),
        "content-type": String(request.headers["content-type"]),
        accept: String(request.headers.accept),
      },
      body: request.raw,
    },
    { signingDate },
  );
  return signed.headers.authorization === request.headers.authorization;
}

/** One event stream message with string headers (what Bedrock sends): length, headers length, prelude CRC, headers, payload, CRC. */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: string): Buffer {
  const headerParts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, "utf8");
    const valueBytes = Buffer.from(value, "utf8");
    const part = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    part.writeUInt8(nameBytes.length, 0);
    nameBytes.copy(part, 1);
    part.writeUInt8(7, 1 + nameBytes.length);
    part.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    valueBytes.copy(part, 4 + nameBytes.length);
    headerParts.push(part);
  }
  const headerBytes = Buffer.concat(headerParts);
  const payloadBytes = Buffer.from(payload, "utf8");
  const total = 12 + headerBytes.length + payloadBytes.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  payloadBytes.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}
