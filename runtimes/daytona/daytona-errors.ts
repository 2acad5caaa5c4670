import { DaytonaConnectionError, DaytonaError } from "@daytonaio/sdk";
import { egressRefusalIn } from "../egress/index.js";
import { excerpt } from "../excerpt.js";
import { RUNTIME_ERROR_CODES, RuntimeError, unreachableError } from "../runtime-error.js";

export const DAYTONA = "Daytona";

/**
 * A Daytona SDK failure in words: a refused key points at the setting, 429 and 5xx and
 * connection failures are retryable, other 4xx are not. The SDK's message is the API's
 * own (`message` of its error body): it never carries the key.
 */
export function daytonaFailure(error: unknown, doing: string): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (egressRefusalIn(error)) return unreachableError(DAYTONA, error);
  if (error instanceof DaytonaConnectionError) return unreachableError(DAYTONA, error);
  if (error instanceof DaytonaError) {
    const status = error.statusCode;
    if (status === 401) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        `${DAYTONA} refused the API key for this agent (HTTP 401) while ${doing}. Check that the key spec.runtime.api_key refers to is current.`,
      );
    }
    const detail = excerpt(error.message);
    if (status === undefined || status === 429 || status >= 500) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `${DAYTONA} failed while ${doing}${status ? ` (HTTP ${status})` : ""}: ${detail}`,
        { retryable: true, cause: error },
      );
    }
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `${DAYTONA} refused ${doing} (HTTP ${status}): ${detail}`,
      { cause: error },
    );
  }
  return new RuntimeError(
    RUNTIME_ERROR_CODES.unavailable,
    `${DAYTONA} failed while ${doing}: ${excerpt(error instanceof Error ? error.message : String(error))}`,
    { retryable: true, cause: error },
  );
}
