/**
 * Server-sent events, split incrementally from the chunks they arrive in. Chunks may cut an
 * event anywhere (even inside a UTF-8 character: bytes are decoded with a streaming decoder).
 */

export interface SseEvent {
  /** The `event:` field; empty when the stream does not name events (OpenAI). */
  event: string;
  /** The `data:` lines joined by newlines. */
  data: string;
}

export class SseParser {
  private buffer = "";
  private readonly decoder = new TextDecoder();

  /** Feeds one chunk; returns the events it completed. */
  push(chunk: Buffer): SseEvent[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.boundary();
      if (end === null) break;
      const block = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end.length);
      const event = parseBlock(block);
      if (event) events.push(event);
    }
    return events;
  }

  /** Whatever was left without a closing blank line (a stream cut short). */
  end(): SseEvent[] {
    const rest = this.buffer.trim();
    this.buffer = "";
    const event = rest ? parseBlock(rest) : null;
    return event ? [event] : [];
  }

  private boundary(): { index: number; length: number } | null {
    const lf = this.buffer.indexOf("\n\n");
    const crlf = this.buffer.indexOf("\r\n\r\n");
    if (lf === -1 && crlf === -1) return null;
    if (crlf !== -1 && (lf === -1 || crlf < lf)) return { index: crlf, length: 4 };
    return { index: lf, length: 2 };
  }
}

function parseBlock(block: string): SseEvent | null {
  let event = "";
  let data: string[] | null = null;
  for (const rawLine of block.split("\n")) {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith("data:")) {
      data ??= [];
      data.push(line.slice(line[5] === " " ? 6 : 5));
    } else if (line.startsWith("event:")) event = line.slice(line[6] === " " ? 7 : 6);
  }
  return data === null ? null : { event, data: data.join("\n") };
}

/** One event as SSE text. */
export function sseText(data: unknown, event?: string): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
}
