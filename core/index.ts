/**
 * The small kernel every module may use: errors with stable codes, stopping an HTTP server
 * gracefully, backoff and outage logging for long-lived connections, routes that answer on
 * node:http ahead of the web framework (their shape and the body reader they use), a check
 * for input no field can store (NUL characters, lone surrogates, hostile nesting), a check for ids that must
 * be UUIDs, and the longest a turn of a run may take (the manifest, the configuration and
 * the engine share it), and text for people (money, echoed input, names without bidi
 * controls). Nothing here knows about web frameworks, databases or other modules.
 */
export { closeServerGracefully } from "./close-server.js";
export {
  ECHO_LIMIT,
  echoInput,
  formatUsd,
  hasBidiControls,
  withoutBidiControls,
} from "./display-text.js";
export {
  badRequest,
  conflict,
  forbidden,
  isSwitchboardError,
  notFound,
  SwitchboardError,
  unauthenticated,
  unavailable,
} from "./errors.js";
export { FanOut } from "./fan-out.js";
export { type FastRoute, requestPath } from "./fast-route.js";
export { type BodyFailure, type BodyListener, readBody } from "./read-body.js";
export {
  type BackoffOptions,
  backoffDelay,
  OutageLog,
  type OutageLogger,
  type WatchedConnection,
} from "./reconnect.js";
export { MAX_RUN_TIMEOUT_SECONDS, RUN_TIMEOUT_RULE } from "./run-timeout.js";
export {
  describeUnstorableInput,
  findUnstorableInput,
  MAX_INPUT_DEPTH,
  type UnstorableInput,
  unstorableTextProblem,
} from "./unstorable-input.js";
export { isUuid, UUID_PATTERN } from "./uuid.js";
