import { egressRefusalIn } from "./egress/index.js";
import { excerpt } from "./excerpt.js";

/**
 * How an adapter says a turn failed. `retryable` decides whether the engine tries the turn
 * again (with backoff): true for what may pass (5xx, refused or reset connections, 429),
 * false for what will not (bad settings, 4xx, an agent that answered with an error).
 *
 * `message` is shown to the person who ran the agent, in Slack or on the site: plain words,
 * no stack, no secrets.
 */
export class RuntimeError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "RuntimeError";
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

export function isRuntimeError(error: unknown): error is RuntimeError {
  return error instanceof RuntimeError;
}

/** Codes shared by every adapter, so surfaces can word them once. */
export const RUNTIME_ERROR_CODES = {
  /** The runtime could not be reached or answered 5xx/429. Retryable. */
  unavailable: "runtime_unavailable",
  /** The runtime refused the request (4xx other than 429) or its settings are wrong. */
  rejected: "runtime_rejected",
  /** The agent itself reported a failure. */
  agentFailed: "agent_failed",
  /** The runtime answered with something the adapter cannot read. */
  badResponse: "runtime_bad_response",
  /** A secret reference in the settings is not set on this worker. */
  missingSecret: "missing_secret",
  /** The agent's address (or a redirect's) is internal and not allowed by RUNTIME_EGRESS_ALLOW. */
  egressRefused: "egress_refused",
  /**
   * The runtime's own spending cap, set from the agent's `max_cost_usd_per_run`, stopped the
   * agent: the run fails as the engine's own cost stop does (`cost_limit`).
   */
  costLimit: "cost_limit",
} as const;

/**
 * The usual mapping from an HTTP status to a RuntimeError: 429 and 5xx are retryable,
 * other statuses are not. `what` names the runtime for the person reading the message.
 */
export function httpStatusError(what: string, status: number, detail?: string): RuntimeError {
  const retryable = status === 429 || status >= 500;
  const shown = detail ? excerpt(detail) : "";
  const suffix = shown ? `: ${shown}` : "";
  return new RuntimeError(
    retryable ? RUNTIME_ERROR_CODES.unavailable : RUNTIME_ERROR_CODES.rejected,
    `${what} answered HTTP ${status}${suffix}`,
    { retryable },
  );
}

/**
 * A network failure (refused, reset, DNS, timeout) reaching the runtime: retryable. A
 * connection the egress policy refused is not: the same address will be refused again.
 */
export function unreachableError(what: string, cause: unknown): RuntimeError {
  const refusal = egressRefusalIn(cause);
  if (refusal) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.egressRefused,
      `${what} could not be called: ${refusal.message}.`,
      { cause },
    );
  }
  return new RuntimeError(
    RUNTIME_ERROR_CODES.unavailable,
    `${what} could not be reached (${networkReason(cause)})`,
    { retryable: true, cause },
  );
}

/** Network error codes in words: the raw messages quote resolved addresses and ports. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "the connection was refused",
  ECONNRESET: "the connection was reset",
  EPIPE: "the connection was reset",
  ENOTFOUND: "its host name was not found",
  EAI_AGAIN: "its host name could not be looked up",
  ETIMEDOUT: "connecting timed out",
  UND_ERR_CONNECT_TIMEOUT: "connecting timed out",
  EHOSTUNREACH: "its host is unreachable",
  ENETUNREACH: "its network is unreachable",
};

function networkReason(cause: unknown): string {
  for (let error = cause, depth = 0; error instanceof Error && depth < 6; depth++) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
    error = error.cause;
  }
  return excerpt(cause instanceof Error ? cause.message : String(cause));
}
