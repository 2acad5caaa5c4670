/**
 * One `AgentRuntime` interface and an adapter per runtime (A2A, Claude Managed Agents,
 * n8n, plain HTTP, the built-in demo; later Bedrock AgentCore, Cursor, E2B, Daytona).
 * Knows nothing of Switchboard's other modules.
 */
export { DemoRuntime, type DemoSettings } from "./demo/demo-runtime.js";
export type {
  AgentRuntime,
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
export { environmentSecrets, type SecretReference, secretReference } from "./secrets.js";
export { primeWithTranscript, sessionRestarted } from "./transcript.js";
