/**
 * Whether an error means the database cannot be reached right now (restarting, failing
 * over, its connections cut, the pool exhausted) rather than that a query was wrong: the
 * first is a 503 a client may retry, the second a bug.
 */

/** The socket failed under the pg driver. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** PostgreSQL's own: shutting down, crashed, starting up (57P0x); connection exceptions (08xxx). */
const SERVER_CODE = /^(57P0[1-3]|08...)$/;

const MESSAGES = [
  /^Connection terminated/, // pg: the socket closed under a query
  /^Knex: Timeout acquiring a connection/, // every pooled connection is busy or failing
  /is not currently accepting connections/, // ALTER DATABASE … ALLOW_CONNECTIONS false
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (SOCKET_CODES.has(code) || SERVER_CODE.test(code))) return true;
  return MESSAGES.some((pattern) => pattern.test(error.message));
}
