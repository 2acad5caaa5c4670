/**
 * The plain HTTP runtime: a team's own agent behind the small contract in CONTRACT.md.
 * `callRuntime` is shared with the n8n adapter, which is plain HTTP too.
 */
export { callRuntime, errorDetail, type RuntimeCall, type RuntimeResponse } from "./call.js";
export { HttpRuntime } from "./http-runtime.js";
export {
  type HttpSettings,
  headerName,
  httpSettings,
  httpUrl,
  secretSetting,
  timeoutSeconds,
} from "./settings.js";
