/**
 * Sessions (one per surface conversation and agent), runs with their ordered events and
 * transcripts, the run queue (BullMQ on Redis, or in-process) and the engine that drives
 * runtimes. Depends on runtimes, authz (who may run and read) and core.
 */
export type { AgentSource, RunnableAgent } from "./engine/agent-source.js";
export { newWorkerId, RunEngine, type RunEngineOptions } from "./engine/run-engine.js";
export type { AgentSecrets } from "./engine/run-executor.js";
export type { RunKey, RunKeys } from "./engine/run-keys.js";
export { REDACTED } from "./engine/secret-scrubber.js";
export { mayReadHistory, retiredConversation } from "./history-access.js";
export { BullMqQueue } from "./queue/bullmq-queue.js";
export { InProcessQueue } from "./queue/in-process-queue.js";
export type { DrainHandler, DrainJob, RunQueue } from "./queue/run-queue.js";
export {
  FINISHED_STATUSES,
  isClosingEvent,
  RUN_STATUSES,
  type Run,
  type RunError,
  type RunEvent,
  type RunEventType,
  type RunStatus,
  type Session,
  type SessionSurface,
  type TranscriptEntry,
} from "./records.js";
export {
  type ClosedSession,
  MAX_INPUT_CHARS,
  RunsService,
  type RunsServiceOptions,
  type SessionDetail,
  type StartedRun,
  type StartRunRequest,
} from "./runs-service.js";
export { LocalRunSignals, RedisRunSignals, type RunSignals } from "./signals/run-signals.js";
export {
  BackgroundLease,
  type SessionSandboxState,
  sessionSandboxStates,
} from "./store/background-lease.js";
export type { RunLimits } from "./store/run-slots.js";
export type { SessionPage } from "./store/session-store.js";
