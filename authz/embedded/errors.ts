/**
 * Errors of the embedded OpenFGA evaluator. Each has a stable string `code` that callers
 * switch on, and — where OpenFGA answers the same mistake with an error of its own — the
 * numeric OpenFGA error code, so that a test can compare the embedded evaluator with a
 * real server (the conformance suite asserts on those numbers).
 */

/** OpenFGA's numeric error codes (openfga/api, `ErrorCode` in errors_ignore.proto). */
export const OpenFgaErrorCode = {
  validationError: 2000,
  resolutionTooComplex: 2002,
  typeNotFound: 2021,
  relationNotFound: 2022,
  invalidTuple: 2027,
  invalidAuthorizationModel: 2056,
  unsupportedSchemaVersion: 2057,
} as const;

export type AuthzErrorCode =
  /** The request is malformed or names things the model does not define (OpenFGA 2000). */
  | "validation_error"
  /** A requested object type, or a user filter's type, is not in the model (2021). */
  | "type_not_found"
  /** A requested relation is not defined on its type (2022). */
  | "relation_not_found"
  /** A contextual tuple breaks the model's rules, as a written tuple would (2027). */
  | "invalid_contextual_tuple"
  /** A tuple to store breaks the model's rules (2027). */
  | "invalid_tuple"
  /** Answering needs more than OpenFGA's resolution depth of 25 (2002). */
  | "resolution_too_complex"
  /** The DSL does not parse or does not validate as an OpenFGA model (2056). */
  | "invalid_model"
  /** The model is not schema 1.1 (2057). */
  | "unsupported_schema_version"
  /** The model uses conditions (ABAC); only an OpenFGA server evaluates those. */
  | "conditions_unsupported";

const numericCodes: Record<AuthzErrorCode, number | undefined> = {
  validation_error: OpenFgaErrorCode.validationError,
  type_not_found: OpenFgaErrorCode.typeNotFound,
  relation_not_found: OpenFgaErrorCode.relationNotFound,
  invalid_contextual_tuple: OpenFgaErrorCode.invalidTuple,
  invalid_tuple: OpenFgaErrorCode.invalidTuple,
  resolution_too_complex: OpenFgaErrorCode.resolutionTooComplex,
  invalid_model: OpenFgaErrorCode.invalidAuthorizationModel,
  unsupported_schema_version: OpenFgaErrorCode.unsupportedSchemaVersion,
  conditions_unsupported: undefined,
};

export class AuthzError extends Error {
  override readonly name = "AuthzError";
  readonly code: AuthzErrorCode;
  /** OpenFGA's numeric error code for the same failure, when OpenFGA has one. */
  readonly openFgaCode: number | undefined;

  constructor(code: AuthzErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.openFgaCode = numericCodes[code];
  }
}

export function isAuthzError(value: unknown): value is AuthzError {
  return value instanceof AuthzError;
}
