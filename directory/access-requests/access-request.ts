export const ACCESS_REQUEST_STATUSES = ["pending", "approved", "denied"] as const;
export type AccessRequestStatus = (typeof ACCESS_REQUEST_STATUSES)[number];

/** Someone who may see an agent asking its owners for the right to run it. */
export interface AccessRequest {
  id: string;
  userId: string;
  requesterEmail: string;
  agentName: string;
  /** As the person wrote it: escape it for whatever surface shows it. */
  reason: string;
  status: AccessRequestStatus;
  /** What the grant went to: `user:ada@example.com` or `team:research#member`. */
  grantTarget: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
  createdAt: Date;
}

export interface AccessRequestRow {
  id: string;
  user_id: string;
  requester_email: string;
  agent_name: string;
  reason: string;
  status: string;
  grant_target: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
  created_at: Date;
}

export function accessRequestFromRow(row: AccessRequestRow): AccessRequest {
  return {
    id: row.id,
    userId: row.user_id,
    requesterEmail: row.requester_email,
    agentName: row.agent_name,
    reason: row.reason,
    status: row.status as AccessRequestStatus,
    grantTarget: row.grant_target,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at ? new Date(row.decided_at) : null,
    decisionReason: row.decision_reason,
    createdAt: new Date(row.created_at),
  };
}
