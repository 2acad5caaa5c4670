import type { ErrorRequestHandler, RequestHandler } from "express";
import { isSwitchboardError, SwitchboardError } from "../../core/index.js";
import { isDatabaseUnavailable } from "../db/index.js";

/**
 * The one place errors become responses: `{ "error": { code, message, request_id } }`.
 * A person reads `message`; a program matches `code`; the log keeps the cause.
 */

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
  /** zlib's code when a compressed body would not decompress, e.g. Z_DATA_ERROR. */
  code?: string;
}

function fromBodyParser(error: BodyParserError): SwitchboardError | undefined {
  switch (error.type) {
    case "entity.parse.failed":
      return new SwitchboardError(
        "invalid_json",
        `The request body is not valid JSON: ${error.message}`,
        {
          status: 400,
        },
      );
    case "entity.too.large":
      return new SwitchboardError(
        "payload_too_large",
        `The request body is larger than the ${error.limit ?? "allowed"} bytes this endpoint takes.`,
        { status: 413 },
      );
    case "encoding.unsupported":
    case "charset.unsupported":
      return new SwitchboardError("unsupported_encoding", error.message, { status: 415 });
    default:
      // A body whose Content-Encoding (gzip, deflate, br) does not match what was sent.
      if (error.status === 400 && error.code?.startsWith("Z_")) {
        return new SwitchboardError(
          "bad_encoding",
          `The request body could not be decompressed: its Content-Encoding header does not match the bytes sent (${error.message}).`,
          { status: 400 },
        );
      }
      return fallback4xx(error);
  }
}

/**
 * Another 4xx from the framework or a body parser (http-errors: `status` and `expose`), e.g.
 * a path parameter that will not decode or a urlencoded form with too many fields: the
 * client's mistake, whose message is written for people, so it is passed on rather than
 * turned into a 500.
 */
function fallback4xx(error: BodyParserError & { expose?: boolean }): SwitchboardError | undefined {
  const status = error.status;
  if (typeof status !== "number" || status < 400 || status > 499 || error.expose === false) {
    return undefined;
  }
  return new SwitchboardError("bad_request", error.message, { status });
}

export function toSwitchboardError(error: unknown): SwitchboardError {
  if (isSwitchboardError(error)) return error;
  const parsed = error instanceof Error ? fromBodyParser(error as BodyParserError) : undefined;
  if (parsed) return parsed;
  if (isDatabaseUnavailable(error)) {
    return new SwitchboardError(
      "database_unavailable",
      "Switchboard cannot reach its database right now; try again in a moment.",
      { status: 503, cause: error },
    );
  }
  return new SwitchboardError(
    "internal_error",
    "Something went wrong on our side. The request id helps us find out what.",
    { status: 500, cause: error },
  );
}

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const failure = toSwitchboardError(error);
  // pino-http logs the response; a server fault carries its cause into that one line.
  if (failure.status >= 500) (res as typeof res & { err?: unknown }).err = error;
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(failure.status).json({
    error: {
      code: failure.code,
      message: failure.message,
      ...(failure.details ? { details: failure.details } : {}),
      request_id: req.id,
    },
  });
};

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(
    new SwitchboardError("route_not_found", `There is no ${req.method} ${req.path} here.`, {
      status: 404,
    }),
  );
};
