import { type Dispatcher, request } from "undici";
import { errorDetail } from "../http/index.js";
import {
  httpStatusError,
  RUNTIME_ERROR_CODES,
  RuntimeError,
  unreachableError,
} from "../runtime-error.js";

/** How the runtime is named in messages people read. */
export const CURSOR = "Cursor";

/** How long one JSON call may take; streams are bounded by the run's own signal only. */
const CALL_TIMEOUT_MS = 60_000;

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are plain JSON, read defensively.
export type Json = any;

export interface CursorReply {
  status: number;
  body: Json;
  /** The error code Cursor sent (`agent_busy`, `run_not_cancellable`…), when it sent one. */
  code: string | undefined;
  text: string;
}

/**
 * The few Cloud Agents API v1 calls a turn makes, over undici through the checked dialer
 * (undici's `request` follows no redirects, so the key never leaves the API's host). Basic
 * authentication with the key as user name and an empty password, as Cursor's API overview
 * documents. The key lives in this object for one turn and is never put in a message.
 */
export class CursorApi {
  private readonly authorization: string;

  constructor(
    private readonly baseUrl: string,
    apiKey: string,
    private readonly dispatcher: Dispatcher,
  ) {
    this.authorization = `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}`;
  }

  /**
   * One JSON call. Returns every status (callers decide what a 404 or 409 means); throws a
   * retryable RuntimeError when Cursor cannot be reached, and an AbortError when `signal`
   * (the run's) aborts.
   */
  async call(method: "GET" | "POST", path: string, signal: AbortSignal, body?: unknown) {
    const timeout = AbortSignal.timeout(CALL_TIMEOUT_MS);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.url(path), {
        method,
        headers: {
          authorization: this.authorization,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([signal, timeout]),
        dispatcher: this.dispatcher,
      });
    } catch (cause) {
      throw this.failure(cause, signal, timeout);
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (cause) {
      throw this.failure(cause, signal, timeout);
    }
    return reply(response.statusCode, text);
  }

  /** Opens a run's SSE stream; the body is read by the caller. */
  async stream(path: string, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    try {
      return await request(this.url(path), {
        method: "GET",
        headers: { authorization: this.authorization, accept: "text/event-stream" },
        signal,
        dispatcher: this.dispatcher,
        headersTimeout: CALL_TIMEOUT_MS,
        // Heartbeats keep a live stream busy; the run's own timeout bounds the rest.
        bodyTimeout: 0,
      });
    } catch (cause) {
      throw this.failure(cause, signal);
    }
  }

  private url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, "")}${path}`;
  }

  private failure(cause: unknown, signal: AbortSignal, timeout?: AbortSignal): unknown {
    if (signal.aborted) return cause;
    if (timeout?.aborted) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `${CURSOR} did not answer within ${CALL_TIMEOUT_MS / 1000} seconds.`,
        { retryable: true, cause },
      );
    }
    return unreachableError(CURSOR, cause);
  }
}

export function reply(status: number, text: string): CursorReply {
  let body: Json;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status, body, code: errorCode(body), text };
}

/** The error code in a Cursor error body: `{ error: { code } }`, `{ code }` or `{ error: "…" }`. */
function errorCode(body: Json): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const nested = body.error;
  if (nested && typeof nested === "object" && typeof nested.code === "string") return nested.code;
  if (typeof body.code === "string") return body.code;
  return undefined;
}

/**
 * A Cursor answer that is not a success, in words: a refused key points at the setting,
 * 429 and 5xx are retryable, other 4xx are not.
 */
export function statusError(reply: CursorReply): RuntimeError {
  if (reply.status === 401) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `${CURSOR} refused the API key for this agent (HTTP 401). Check that the key spec.runtime.api_key refers to is current.`,
    );
  }
  if (reply.status === 403) {
    const detail = errorDetail(reply.text);
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `The Cursor API key for this agent may not do this (HTTP 403)${detail ? `: ${detail}` : "."}`,
    );
  }
  if (reply.status === 429) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.unavailable,
      `${CURSOR} is limiting how fast this agent may run (HTTP 429); it will be tried again.`,
      { retryable: true },
    );
  }
  return httpStatusError(CURSOR, reply.status, errorDetail(reply.text) ?? reply.code);
}

export function badResponse(detail: string): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.badResponse,
    `${CURSOR} answered in a way Switchboard cannot read: ${detail}.`,
  );
}
