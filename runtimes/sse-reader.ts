/**
 * Readers for the two line-based streams runtimes answer with: newline-delimited JSON
 * (n8n's streaming webhooks) and server-sent events (the home-grown HTTP contract). Both
 * take the response body as bytes, so a chunk that splits a line or a multi-byte character
 * is put back together before anything is parsed.
 */

/** The lines of a byte stream, without their `\n` / `\r\n`; the last line even without one. */
export async function* readLines(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of body) {
    buffered += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      yield buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered.length > 0) yield buffered.replace(/\r$/, "");
}

/** One server-sent event: `event` is "message" when the server named none. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * The events of a `text/event-stream` body, per the WHATWG rules that matter to a client
 * reading one response: `data:` lines join with `\n`, comments (`:`) and `retry:` are
 * skipped, an event is dispatched at a blank line, and one without data is dropped.
 */
export async function* readServerSentEvents(
  body: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<ServerSentEvent> {
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  for await (const line of readLines(body)) {
    if (line === "") {
      if (data.length > 0) {
        yield { event: event || "message", data: data.join("\n"), ...(id ? { id } : {}) };
      }
      event = "";
      data = [];
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  // A stream that ends without the final blank line still delivered its last event.
  if (data.length > 0) {
    yield { event: event || "message", data: data.join("\n"), ...(id ? { id } : {}) };
  }
}
