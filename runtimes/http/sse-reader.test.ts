import { describe, expect, it } from "vitest";
import { readLines, readServerSentEvents } from "../sse-reader.js";

async function* bytes(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function all<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe("the shared stream readers", () => {
  it("puts lines and multi-byte characters split across chunks back together", async () => {
    const euro = new TextEncoder().encode("€");
    async function* split(): AsyncIterable<Uint8Array> {
      yield new TextEncoder().encode('{"a":"');
      yield euro.slice(0, 1);
      yield euro.slice(1);
      yield new TextEncoder().encode('"}\r\n{"b":1}');
    }
    expect(await all(readLines(split()))).toEqual(['{"a":"€"}', '{"b":1}']);
  });

  it("reads events per the SSE rules: comments, multi-line data, CRLF, unnamed events", async () => {
    const events = await all(
      readServerSentEvents(
        bytes(
          ": keep-alive\n\n",
          'event: delta\r\ndata: {"text":\r\n',
          'data: "hi"}\r\n\r\n',
          "retry: 1000\nid: 7\ndata:plain\n\n",
          "event: empty\n\n",
          "event: done\ndata: {}",
        ),
      ),
    );
    expect(events).toEqual([
      { event: "delta", data: '{"text":\n"hi"}' },
      { event: "message", data: "plain", id: "7" },
      { event: "done", data: "{}", id: "7" },
    ]);
  });
});
