/**
 * The small kernel every module may use: errors with stable codes, and stopping an HTTP
 * server gracefully. Nothing here knows about web frameworks, databases or other modules.
 */
export { closeServerGracefully } from "./close-server.js";
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
