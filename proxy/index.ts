/**
 * The model gateway: OpenAI- and Anthropic-compatible endpoints, routing from a
 * LiteLLM-style config, virtual keys and limits, spend written to the governance ledger.
 *
 * Run it as its own server with `startProxy`, or in another server's process with
 * `createModelProxy` (a node:http handler). Keys are issued with `issueProxyKey`; a run's
 * live keys are revoked together with `revokeRunKeys`.
 */
export { ProxyConfigError } from "./config/errors.js";
export { loadProxyConfig, type ProxySettings, parseProxyConfig } from "./config/load.js";
export { type ClientDialect, ProxyError, type ProxyErrorCode } from "./errors.js";
export {
  type IssuedKey,
  type IssueKeyRequest,
  issueProxyKey,
  revokeProxyKey,
  revokeRunKeys,
} from "./keys/virtual-keys.js";
export { createModelProxy, type ModelProxy, type ModelProxyOptions } from "./model-proxy.js";
export { type RunningProxy, type StartProxyOptions, startProxy } from "./start-proxy.js";
