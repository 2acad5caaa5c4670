/**
 * One `AgentRuntime` interface and an adapter per runtime (A2A, Claude Managed Agents,
 * Cursor, Databricks, Bedrock AgentCore, Elastic Agent Builder, n8n, plain HTTP, the
 * built-in demo, Daytona and E2B sandboxes).
 * Knows nothing of Switchboard's other modules.
 */
export { A2aRuntime, type A2aRuntimeOptions, type A2aSettings } from "./a2a/index.js";
export {
  BedrockAgentCoreRuntime,
  type BedrockAgentCoreSettings,
} from "./bedrock-agentcore/index.js";
export {
  ClaudeManagedAgentsRuntime,
  type ClaudeManagedAgentsSettings,
} from "./claude-managed-agents/index.js";
export { CursorRuntime, type CursorSettings } from "./cursor/index.js";
export { DatabricksRuntime, type DatabricksSettings } from "./databricks/index.js";
export {
  DaytonaRuntime,
  type DaytonaRuntimeOptions,
  type DaytonaSettings,
} from "./daytona/index.js";
export { DemoRuntime, type DemoSettings } from "./demo/demo-runtime.js";
export { E2bRuntime, type E2bRuntimeOptions, type E2bSettings } from "./e2b/index.js";
export {
  EgressPolicy,
  type EgressPolicyOptions,
  egressAllowProblem,
  type HostResolver,
  isLoopbackAddress,
  type ResolvedAddress,
} from "./egress/index.js";
export {
  ElasticAgentBuilderRuntime,
  type ElasticAgentBuilderSettings,
} from "./elastic-agent-builder/index.js";
export { EXCERPT_LENGTH, excerpt } from "./excerpt.js";
export { HttpRuntime, type HttpSettings } from "./http/index.js";
export { N8nRuntime, type N8nSettings } from "./n8n/index.js";
export type {
  AgentRuntime,
  ModelProxyAccess,
  RuntimeEvent,
  RuntimeHandle,
  RuntimeUsage,
  SecretResolver,
  TranscriptMessage,
  TurnRequest,
} from "./runtime.js";
export {
  httpStatusError,
  isRuntimeError,
  RUNTIME_ERROR_CODES,
  RuntimeError,
  unreachableError,
} from "./runtime-error.js";
export { type AnyAgentRuntime, RuntimeRegistry, type SettingsProblem } from "./runtime-registry.js";
export {
  LABELS as SANDBOX_LABELS,
  SandboxGoneError,
  type SandboxProvider,
  SandboxRuntime,
  type SandboxSettings,
  type SweptSandbox,
  type SweptSession,
  sweepSandboxes,
} from "./sandbox/index.js";
export {
  allowedEnvironment,
  describeReference,
  type EnvironmentReference,
  environmentReferences,
  parseReference,
  type SecretReference,
  secretReference,
  secretUnavailable,
} from "./secrets.js";
export { primeWithTranscript, sessionRestarted } from "./transcript.js";
