/**
 * Claude Managed Agents: agents that Anthropic runs, with their own tools and sandbox,
 * driven through `@anthropic-ai/sdk`'s `beta.sessions` API.
 */
export { ClaudeManagedAgentsRuntime } from "./claude-managed-agents-runtime.js";
export { type ClaudeManagedAgentsSettings, claudeManagedAgentsSettings } from "./settings.js";
