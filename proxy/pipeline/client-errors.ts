import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import { type ClientDialect, errorBody, ProxyError } from "../errors.js";
import { sseText } from "../translate/sse.js";

/** Sends a provider-shaped error; 5xx are logged with their cause (never the prompt). */
export function sendError(
  res: ServerResponse,
  error: ProxyError,
  dialect: ClientDialect,
  requestId: string,
  logger: Logger,
): void {
  if (error.status >= 500) {
    logger.warn({ requestId, code: error.code, err: error.cause ?? error }, error.message);
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = error.upstreamBody ?? errorBody(error, dialect);
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-request-id": requestId,
  };
  // The rest of an oversized body is not read: the connection cannot be reused.
  if (error.code === "body_too_large") headers.connection = "close";
  res.writeHead(error.status, headers);
  res.end(body);
}

/** An error as the last event of a stream, in the client's dialect. */
export function streamErrorEvent(error: ProxyError, dialect: ClientDialect): string {
  if (dialect === "anthropic") {
    return sseText(
      { type: "error", error: { type: "api_error", message: error.message } },
      "error",
    );
  }
  return sseText({ error: { message: error.message, type: "api_error", code: error.code } });
}

/** A message from an upstream error body, whatever its shape. */
function upstreamMessage(body: Buffer): string | undefined {
  try {
    const json = JSON.parse(body.toString("utf8"));
    const message = json?.error?.message ?? json?.message ?? json?.Message;
    return typeof message === "string" ? message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An upstream's error answer as ours. The status is kept (a 429 stays a 429, a 400 a 400)
 * with the provider's message, and in the same dialect the provider's body itself is sent.
 * A 401/403 is the proxy's credentials at fault, not the client's key: it becomes a 502.
 */
export function relayedError(
  status: number,
  body: Buffer,
  upstreamDialect: ClientDialect | "bedrock",
  clientDialect: ClientDialect,
): ProxyError {
  const message = upstreamMessage(body) ?? `The model provider answered ${status}.`;
  if (status === 401 || status === 403) {
    return new ProxyError(
      "upstream_error",
      `The model provider refused the proxy's credentials: ${message}`,
    );
  }
  const code =
    status === 429 ? "rate_limited" : status >= 500 ? "upstream_error" : "invalid_request";
  const upstreamBody = upstreamDialect === clientDialect ? body : undefined;
  return new ProxyError(code, message, { status, upstreamBody });
}
