/**
 * Errors that cross module boundaries carry a stable string `code` (clients and tests
 * match on it), the HTTP status it maps to, and a message written for a person.
 * The cause is kept for the logs; it never reaches the client.
 */
export class SwitchboardError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    options: { status?: number; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "SwitchboardError";
    this.code = code;
    this.status = options.status ?? 500;
    this.details = options.details;
  }
}

/** The request was malformed or a value was out of range. */
export function badRequest(message: string, details?: Record<string, unknown>): SwitchboardError {
  return new SwitchboardError("bad_request", message, { status: 400, details });
}

export function unauthenticated(
  message = "Sign in or send an API key to use this.",
): SwitchboardError {
  return new SwitchboardError("unauthenticated", message, { status: 401 });
}

export function forbidden(message: string, details?: Record<string, unknown>): SwitchboardError {
  return new SwitchboardError("forbidden", message, { status: 403, details });
}

export function notFound(what: string): SwitchboardError {
  return new SwitchboardError("not_found", `${what} was not found.`, { status: 404 });
}

export function conflict(message: string, details?: Record<string, unknown>): SwitchboardError {
  return new SwitchboardError("conflict", message, { status: 409, details });
}

/** A service we depend on (database, Redis, OpenFGA, a runtime) could not be reached. */
export function unavailable(message: string, cause?: unknown): SwitchboardError {
  return new SwitchboardError("service_unavailable", message, { status: 503, cause });
}

export function isSwitchboardError(error: unknown): error is SwitchboardError {
  return error instanceof SwitchboardError;
}
