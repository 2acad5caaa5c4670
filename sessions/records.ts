import type { RuntimeHandle } from "../runtimes/index.js";

export const RUN_STATUSES = [
  "queued",
  "needs_approval",
  "running",
  "succeeded",
  "failed",
  "cancelled",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINISHED_STATUSES: ReadonlySet<RunStatus> = new Set([
  "succeeded",
  "failed",
  "cancelled",
]);

/** The event that ends a run's timeline: its status becoming one of FINISHED_STATUSES. */
export function isClosingEvent(event: RunEvent): boolean {
  return event.type === "run.status" && FINISHED_STATUSES.has(event.data.status as RunStatus);
}

/** Where a conversation happens: the key of a session is (surface, conversation key, agent). */
export type SessionSurface = "slack" | "teams" | "site" | "api" | "a2a" | "mcp";

export interface Session {
  id: string;
  agentId: string;
  userId: string;
  surface: SessionSurface;
  /** A Slack thread (`T123:C456:1700000000.000100`), a Teams reply chain, a site chat, an API session id. */
  conversationKey: string;
  title: string | null;
  runtimeHandle: RuntimeHandle | null;
  status: "active" | "closed";
  createdAt: Date;
  lastActivityAt: Date;
}

export interface RunError {
  code: string;
  message: string;
}

export interface Run {
  id: string;
  sessionId: string;
  agentId: string;
  userId: string;
  surface: SessionSurface;
  runtime: string | null;
  status: RunStatus;
  input: string;
  output: string | null;
  error: RunError | null;
  attempt: number;
  costUsd: number;
  cancelRequested: boolean;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The approval a `needs_approval` run waits for (and, after, the one that decided it). */
  approvalId: string | null;
}

/**
 * What a run's timeline holds, in order (`seq` from 1). SSE clients resume from a seq.
 * - `run.status`: the run's own status changed ({ status, attempt?, error? }); also
 *   `waiting` ({ status, reason, message }) while a queued run waits for a place because
 *   its person or agent has as many runs in progress as allowed (the run stays `queued`)
 * - `runtime.status`: the runtime's progress ({ status, message? })
 * - `message.delta`: a piece of the answer ({ text })
 * - `tool.use`: the agent used a tool ({ name, input?, id? })
 * - `message`: the whole answer of the turn ({ text })
 * - `usage`: tokens and cost ({ model?, inputTokens, outputTokens, costUsd? … })
 * - `attempt.failed`: one try failed and another will follow ({ code, message, attempt, retryInMs })
 */
export type RunEventType =
  | "run.status"
  | "runtime.status"
  | "message.delta"
  | "tool.use"
  | "message"
  | "usage"
  | "attempt.failed";

export interface RunEvent {
  seq: number;
  type: RunEventType;
  data: Record<string, unknown>;
  at: Date;
}

export interface TranscriptEntry {
  id: number;
  runId: string | null;
  role: "user" | "agent" | "system";
  content: string;
  at: Date;
}
