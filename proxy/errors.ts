/**
 * Every failure the proxy answers with has a stable code, an HTTP status and a message for
 * the person reading it. The same error is rendered in the shape of the API the client
 * speaks: OpenAI's `{error:{message,type,code}}` or Anthropic's `{type:"error",error:{…}}`,
 * so the official SDKs raise their own typed errors (RateLimitError, AuthenticationError…).
 */

export type ProxyErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "body_too_large"
  | "missing_key"
  | "invalid_key"
  | "model_not_allowed"
  | "unknown_model"
  | "unsupported_endpoint"
  | "rate_limited"
  | "budget_exceeded"
  | "upstream_error"
  | "upstream_timeout"
  | "upstream_unreachable"
  | "upstream_invalid_response"
  | "key_store_unavailable"
  | "not_found"
  | "internal_error";

const STATUS: Record<ProxyErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  body_too_large: 413,
  missing_key: 401,
  invalid_key: 401,
  model_not_allowed: 403,
  unknown_model: 404,
  unsupported_endpoint: 400,
  rate_limited: 429,
  // 400, as LiteLLM answers: the SDKs do not retry it, and retrying cannot help.
  budget_exceeded: 400,
  upstream_error: 502,
  upstream_timeout: 504,
  upstream_unreachable: 502,
  upstream_invalid_response: 502,
  key_store_unavailable: 503,
  not_found: 404,
  internal_error: 500,
};

/** OpenAI's `error.type` for each code. */
const OPENAI_TYPE: Record<ProxyErrorCode, string> = {
  invalid_json: "invalid_request_error",
  invalid_request: "invalid_request_error",
  body_too_large: "invalid_request_error",
  missing_key: "authentication_error",
  invalid_key: "authentication_error",
  model_not_allowed: "permission_error",
  unknown_model: "invalid_request_error",
  unsupported_endpoint: "invalid_request_error",
  rate_limited: "rate_limit_error",
  budget_exceeded: "budget_exceeded",
  upstream_error: "api_error",
  upstream_timeout: "timeout_error",
  upstream_unreachable: "api_error",
  upstream_invalid_response: "api_error",
  key_store_unavailable: "api_error",
  not_found: "invalid_request_error",
  internal_error: "api_error",
};

/** Anthropic's `error.type` for each code (its documented set). */
const ANTHROPIC_TYPE: Record<ProxyErrorCode, string> = {
  invalid_json: "invalid_request_error",
  invalid_request: "invalid_request_error",
  body_too_large: "request_too_large",
  missing_key: "authentication_error",
  invalid_key: "authentication_error",
  model_not_allowed: "permission_error",
  unknown_model: "not_found_error",
  unsupported_endpoint: "invalid_request_error",
  rate_limited: "rate_limit_error",
  budget_exceeded: "invalid_request_error",
  upstream_error: "api_error",
  upstream_timeout: "api_error",
  upstream_unreachable: "api_error",
  upstream_invalid_response: "api_error",
  key_store_unavailable: "api_error",
  not_found: "not_found_error",
  internal_error: "api_error",
};

export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly status: number;
  /** An upstream's own error body, sent as it is when the client speaks the same dialect. */
  readonly upstreamBody: Buffer | undefined;

  constructor(
    code: ProxyErrorCode,
    message: string,
    options: { status?: number; cause?: unknown; upstreamBody?: Buffer } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ProxyError";
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.upstreamBody = options.upstreamBody;
  }
}

/** The wire dialect a client speaks; errors and translations follow it. */
export type ClientDialect = "openai" | "anthropic";

export function errorBody(error: ProxyError, dialect: ClientDialect): string {
  if (dialect === "anthropic") {
    return JSON.stringify({
      type: "error",
      error: { type: ANTHROPIC_TYPE[error.code], message: error.message },
    });
  }
  return JSON.stringify({
    error: { message: error.message, type: OPENAI_TYPE[error.code], param: null, code: error.code },
  });
}

/** Anything thrown that is not a ProxyError is a bug: the client sees a plain 500. */
export function asProxyError(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  return new ProxyError("internal_error", "The proxy failed to handle this request.", {
    cause: error,
  });
}
