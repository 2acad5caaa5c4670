import { type Dispatcher, request } from "undici";
import { excerpt } from "../excerpt.js";
import { RUNTIME_ERROR_CODES, RuntimeError, unreachableError } from "../runtime-error.js";

/**
 * One POST to an agent that answers over plain HTTP (the home-grown HTTP contract, an n8n
 * webhook), with the two ways a turn stops early kept apart: the run was cancelled (the
 * caller returns quietly) or the turn ran past its timeout (a retryable failure). Network
 * failures become `unreachableError`, so the engine retries them.
 */
export interface RuntimeCall {
  /** Names the runtime in messages: "The n8n workflow", "The agent". */
  what: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** The run's signal. */
  signal: AbortSignal;
  timeoutSeconds: number;
  dispatcher: Dispatcher;
}

export interface RuntimeResponse {
  status: number;
  /** The media type, lower case, without parameters ("" when none was sent). */
  contentType: string;
  /** The body as it arrives; ends quietly when the run is cancelled. */
  chunks(): AsyncIterable<Uint8Array>;
  /** The whole body as text; "" when the run was cancelled while reading. */
  text(): Promise<string>;
  /** Drops the connection if the body was not read to its end. */
  dispose(): void;
}

/** The response, or null when the run was cancelled before it came. */
export async function callRuntime(call: RuntimeCall): Promise<RuntimeResponse | null> {
  const deadline = AbortSignal.timeout(call.timeoutSeconds * 1000);
  const signal = AbortSignal.any([call.signal, deadline]);
  const failure = (cause: unknown): RuntimeError | null => {
    if (call.signal.aborted) return null;
    if (deadline.aborted) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `${call.what} did not finish answering within ${call.timeoutSeconds} seconds.`,
        { retryable: true, cause },
      );
    }
    return unreachableError(call.what, cause);
  };

  let response: Dispatcher.ResponseData;
  try {
    response = await request(call.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...call.headers },
      body: JSON.stringify(call.body),
      signal,
      dispatcher: call.dispatcher,
      // The turn's own deadline governs; undici's 300 s defaults would cut long turns short.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  } catch (cause) {
    const error = failure(cause);
    if (error) throw error;
    return null;
  }

  const body = response.body;
  async function* chunks(): AsyncIterable<Uint8Array> {
    try {
      for await (const chunk of body) yield chunk as Uint8Array;
    } catch (cause) {
      const error = failure(cause);
      if (error) throw error;
    }
  }
  const header = response.headers["content-type"];
  const contentType = (Array.isArray(header) ? header[0] : header) ?? "";
  return {
    status: response.statusCode,
    contentType: contentType.split(";")[0]?.trim().toLowerCase() ?? "",
    chunks,
    async text() {
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of chunks()) text += decoder.decode(chunk, { stream: true });
      return text + decoder.decode();
    },
    dispose() {
      if (body.destroyed || body.readableEnded) return;
      // undici reports a body destroyed early as an AbortError: expected here, not a crash.
      body.on("error", () => {});
      body.destroy();
    },
  };
}

/** A short, readable excerpt of an error body for a message: its `message` when JSON. */
export function errorDetail(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") {
      const record = parsed as Record<string, unknown>;
      const nested = record.error as Record<string, unknown> | undefined;
      const message =
        record.message ??
        (typeof record.error === "string" ? record.error : undefined) ??
        nested?.message;
      if (typeof message === "string" && message.trim()) return excerpt(message);
    }
    return undefined;
  } catch {
    const plain = text.trim();
    // An HTML error page says nothing a person can use in a chat reply.
    if (!plain || plain.startsWith("<")) return undefined;
    return excerpt(plain);
  }
}
