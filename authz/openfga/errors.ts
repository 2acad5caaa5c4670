import { FgaApiError } from "@openfga/sdk";
import { AuthzError, type AuthzErrorCode } from "../embedded/index.js";

/**
 * OpenFGA answers a refused request with a string code (`{"code": "type_not_found"}`).
 * These become the same AuthzError the embedded evaluator throws, so callers and the
 * conformance suite see one vocabulary. Anything else (network, 5xx) is not an AuthzError:
 * it means the answer is unknown, which callers treat as a denial.
 */
const fromServerCode: Record<string, AuthzErrorCode> = {
  validation_error: "validation_error",
  authorization_model_resolution_too_complex: "resolution_too_complex",
  type_not_found: "type_not_found",
  relation_not_found: "relation_not_found",
  invalid_tuple: "invalid_tuple",
  invalid_contextual_tuple: "invalid_contextual_tuple",
  invalid_authorization_model: "invalid_model",
  unsupported_schema_version: "unsupported_schema_version",
};

export function translateOpenFgaError(error: unknown): unknown {
  if (!(error instanceof FgaApiError)) return error;
  const serverCode = (error as FgaApiError & { apiErrorCode?: string }).apiErrorCode ?? "";
  const code =
    fromServerCode[serverCode] ??
    // Any other 400 is still a refusal of the request as made.
    (error.statusCode === 400 ? "validation_error" : undefined);
  if (!code) return error;
  return new AuthzError(code, error.apiErrorMessage ?? error.message, { cause: error });
}
