import type { z } from "zod";
import type { Run, Session, SessionDetail } from "../../sessions/index.js";
import type { runResponse, sessionDetail, sessionSummary } from "./run-schemas.js";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function presentRun(run: Run, agentName: string | null): z.infer<typeof runResponse> {
  return {
    id: run.id,
    session_id: run.sessionId,
    agent: agentName,
    status: run.status,
    input: run.input,
    output: run.output,
    error: run.error,
    attempt: run.attempt,
    cancel_requested: run.cancelRequested,
    cost_usd: run.costUsd,
    approval_id: run.approvalId,
    surface: run.surface,
    created_at: run.createdAt.toISOString(),
    started_at: iso(run.startedAt),
    finished_at: iso(run.finishedAt),
    links: {
      self: `/api/v1/runs/${run.id}`,
      events: `/api/v1/runs/${run.id}/events`,
      session: `/api/v1/sessions/${run.sessionId}`,
    },
  };
}

export function presentSession(
  session: Session,
  agent: { name: string | null; retired: boolean },
): z.infer<typeof sessionSummary> {
  return {
    id: session.id,
    agent: agent.name,
    agent_retired: agent.retired,
    surface: session.surface,
    title: session.title,
    status: session.status,
    created_at: session.createdAt.toISOString(),
    last_activity_at: session.lastActivityAt.toISOString(),
  };
}

export function presentSessionDetail(detail: SessionDetail): z.infer<typeof sessionDetail> {
  const name = detail.agent?.name ?? null;
  return {
    ...presentSession(detail.session, { name, retired: detail.agent?.retired ?? true }),
    transcript: detail.transcript.map((entry) => ({
      role: entry.role,
      content: entry.content,
      run_id: entry.runId,
      at: entry.at.toISOString(),
    })),
    runs: detail.runs.map((run) => presentRun(run, name)),
  };
}
