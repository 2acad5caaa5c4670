/** E2B sandboxes for the sandbox runtime: the provider on the `e2b` SDK and its settings. */
export { type E2bConnection, type E2bProviderOptions, E2bSandboxProvider } from "./e2b-provider.js";
export { type E2bSettings, e2bSettings, e2bSettingsShape } from "./settings.js";
