import { crc32 } from "node:zlib";
import type { SseEvent } from "../translate/sse.js";

/**
 * AWS's binary event stream (`application/vnd.amazon.eventstream`), as Bedrock's
 * ConverseStream sends it, split into events shaped like SSE ones: `event` is the
 * `:event-type` header (or `exception:<type>` for an exception), `data` the JSON payload.
 *
 * Each message: total length (4 bytes), headers length (4), prelude CRC32 (4), headers,
 * payload, message CRC32 (4). A message whose prelude CRC does not match ends the stream
 * with an error event rather than a misread.
 */
export class EventStreamDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SseEvent[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const events: SseEvent[] = [];
    while (this.buffer.length >= 12) {
      const total = this.buffer.readUInt32BE(0);
      const headersLength = this.buffer.readUInt32BE(4);
      if (
        crc32(this.buffer.subarray(0, 8)) !== this.buffer.readUInt32BE(8) ||
        total < 16 + headersLength
      ) {
        this.buffer = Buffer.alloc(0);
        events.push({
          event: "exception:CorruptStream",
          data: '{"message":"corrupt event stream"}',
        });
        break;
      }
      if (this.buffer.length < total) break;
      const headers = readHeaders(this.buffer.subarray(12, 12 + headersLength));
      const data = this.buffer.subarray(12 + headersLength, total - 4).toString("utf8");
      this.buffer = this.buffer.subarray(total);
      const type =
        headers[":message-type"] === "exception"
          ? `exception:${headers[":exception-type"] ?? "unknown"}`
          : (headers[":event-type"] ?? "");
      events.push({ event: type, data });
    }
    return events;
  }

  end(): SseEvent[] {
    return [];
  }
}

/** Header values by type: only strings are read; other types are skipped by their size. */
function readHeaders(bytes: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 0;
  while (at < bytes.length) {
    const nameLength = bytes.readUInt8(at);
    const name = bytes.subarray(at + 1, at + 1 + nameLength).toString("utf8");
    at += 1 + nameLength;
    const type = bytes.readUInt8(at);
    at += 1;
    if (type === 0 || type === 1) continue; // booleans: no value bytes
    const fixed: Record<number, number> = { 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16 };
    if (fixed[type] !== undefined) {
      at += fixed[type] as number;
      continue;
    }
    const length = bytes.readUInt16BE(at);
    const value = bytes.subarray(at + 2, at + 2 + length);
    at += 2 + length;
    if (type === 7) headers[name] = value.toString("utf8");
  }
  return headers;
}
