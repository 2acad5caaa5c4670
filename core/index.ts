/**
 * The small kernel every module may use: errors with stable codes. Nothing here knows
 * about HTTP frameworks, databases or any other module.
 */
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
