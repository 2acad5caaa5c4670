import type {
  Run,
  RunError,
  RunEvent,
  RunEventType,
  RunStatus,
  SessionSurface,
} from "../records.js";

export interface RunRow {
  id: string;
  session_id: string;
  agent_id: string;
  user_id: string;
  surface: string;
  runtime: string | null;
  status: string;
  input: string;
  output: string | null;
  error: RunError | null;
  attempt: number;
  cost_usd: number | string;
  cancel_requested_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  idempotency_key: string | null;
  approval_id: string | null;
}

export const RUN_COLUMNS = [
  "id",
  "session_id",
  "agent_id",
  "user_id",
  "surface",
  "runtime",
  "status",
  "input",
  "output",
  "error",
  "attempt",
  "cost_usd",
  "cancel_requested_at",
  "created_at",
  "started_at",
  "finished_at",
  "idempotency_key",
  "approval_id",
];

export function runFromRow(row: RunRow): Run {
  return {
    id: row.id,
    sessionId: row.session_id,
    agentId: row.agent_id,
    userId: row.user_id,
    surface: row.surface as SessionSurface,
    runtime: row.runtime,
    status: row.status as RunStatus,
    input: row.input,
    output: row.output,
    error: row.error,
    attempt: row.attempt,
    costUsd: Number(row.cost_usd),
    cancelRequested: row.cancel_requested_at !== null,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    approvalId: row.approval_id ?? null,
  };
}

export interface RunEventRow {
  seq: number;
  type: string;
  data: Record<string, unknown>;
  created_at: Date;
}

export function runEventFromRow(row: RunEventRow): RunEvent {
  return { seq: row.seq, type: row.type as RunEventType, data: row.data, at: row.created_at };
}
