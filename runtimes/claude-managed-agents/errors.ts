import { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import { excerpt } from "../excerpt.js";
import {
  httpStatusError,
  RUNTIME_ERROR_CODES,
  RuntimeError,
  unreachableError,
} from "../runtime-error.js";

/** How the runtime is named in messages people read. */
export const RUNTIME_NAME = "Claude Managed Agents";

/** What the failed call was doing, so a 404 can say what was missing. */
export type CallContext =
  | { what: "lookup"; kind: "agent" | "environment" }
  | { what: "create-session"; agent: string; environment: string }
  | { what: "session" };

/** True when the SDK stopped because our own signal aborted (a cancelled run). */
export function isAbort(error: unknown): boolean {
  return (
    error instanceof APIUserAbortError || (error instanceof Error && error.name === "AbortError")
  );
}

/** True when the API says the session itself is gone: 404 on a session path. */
export function isSessionGone(error: unknown): boolean {
  return error instanceof APIError && error.status === 404;
}

/** The API's own wording of an error, when it sent one (never contains the key). */
function apiDetail(error: APIError): string | undefined {
  return excerpt(error.apiMessage ?? "") || undefined;
}

/**
 * Turns whatever the SDK threw into a RuntimeError a non-engineer can read. 429, 5xx and
 * network failures are retryable; a refused key, a missing agent or a bad request are not,
 * because trying the same turn again would fail the same way.
 */
export function toRuntimeError(error: unknown, context: CallContext): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (error instanceof APIConnectionError) return unreachableError(RUNTIME_NAME, error);
  if (error instanceof APIError) {
    const status = error.status;
    const detail = apiDetail(error);
    if (status === 401) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        "The Anthropic API key for this agent was refused (HTTP 401). Check that the key its settings refer to is current.",
        { cause: error },
      );
    }
    if (status === 403) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        `The Anthropic API key for this agent is not allowed to use ${RUNTIME_NAME} here (HTTP 403)${detail ? `: ${detail}` : "."}`,
        { cause: error },
      );
    }
    if (status === 404 && context.what === "create-session") {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        `${RUNTIME_NAME} could not find agent ${context.agent} or environment ${context.environment} (HTTP 404); check spec.runtime.agent and spec.runtime.environment.`,
        { cause: error },
      );
    }
    if (status === 404 && context.what === "session") {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `The ${RUNTIME_NAME} session disappeared during the turn; trying again opens a new one.`,
        { retryable: true, cause: error },
      );
    }
    if (status === 429) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `${RUNTIME_NAME} is limiting how fast this agent may run (HTTP 429); it will be tried again.`,
        { retryable: true, cause: error },
      );
    }
    if (typeof status === "number") {
      const mapped = httpStatusError(RUNTIME_NAME, status, detail);
      return new RuntimeError(mapped.code, mapped.message, {
        retryable: mapped.retryable,
        cause: error,
      });
    }
    // An `error` event inside the stream: no status, the kind is in the body.
    const type = error.type ?? "";
    const retryable = type === "overloaded_error" || type === "api_error" || type === "";
    return new RuntimeError(
      retryable ? RUNTIME_ERROR_CODES.unavailable : RUNTIME_ERROR_CODES.badResponse,
      `${RUNTIME_NAME} broke off the answer${detail ? `: ${detail}` : ` (${excerpt(type) || "unknown error"})`}`,
      { retryable, cause: error },
    );
  }
  if (error instanceof SyntaxError) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.badResponse,
      `${RUNTIME_NAME} sent an event Switchboard could not read.`,
      { cause: error },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new RuntimeError(
    RUNTIME_ERROR_CODES.badResponse,
    `${RUNTIME_NAME} failed: ${excerpt(reason)}`,
    { cause: error },
  );
}
