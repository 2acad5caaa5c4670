export const APPROVAL_STATUSES = ["pending", "approved", "denied", "expired", "cancelled"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A run held by an `approval` budget, and what became of it. */
export interface Approval {
  id: string;
  runId: string;
  budgetId: string | null;
  budgetScope: string;
  requestedBy: string;
  requesterEmail: string;
  agentName: string;
  /** The request's first words. */
  summary: string;
  spentUsd: number;
  limitUsd: number;
  estimateUsd: number;
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
  raisedUsd: number | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface ApprovalRow {
  id: string;
  run_id: string;
  budget_id: string | null;
  budget_scope: string;
  requested_by: string;
  requester_email: string;
  agent_name: string;
  summary: string;
  spent_usd: string | number;
  limit_usd: string | number;
  estimate_usd: string | number;
  status: string;
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  raised_usd: string | number | null;
  created_at: Date;
  expires_at: Date;
}

export function approvalFromRow(row: ApprovalRow): Approval {
  return {
    id: row.id,
    runId: row.run_id,
    budgetId: row.budget_id,
    budgetScope: row.budget_scope,
    requestedBy: row.requested_by,
    requesterEmail: row.requester_email,
    agentName: row.agent_name,
    summary: row.summary,
    spentUsd: Number(row.spent_usd),
    limitUsd: Number(row.limit_usd),
    estimateUsd: Number(row.estimate_usd),
    status: row.status as ApprovalStatus,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    reason: row.reason,
    raisedUsd: row.raised_usd === null ? null : Number(row.raised_usd),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** The first words of a request, for an approver to see what they are deciding on. */
export function summaryOf(input: string): string {
  const flat = input.replace(/\s+/g, " ").trim();
  return flat.length > 140 ? `${flat.slice(0, 139)}…` : flat;
}
