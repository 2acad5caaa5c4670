/** Agents in E2B sandboxes: the runtime, its provider on the `e2b` SDK, and its settings. */
export { type E2bConnection, type E2bProviderOptions, E2bSandboxProvider } from "./e2b-provider.js";
export { E2bRuntime, type E2bRuntimeOptions } from "./e2b-runtime.js";
export { type E2bSettings, e2bSettings } from "./settings.js";
