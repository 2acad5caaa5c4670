import type { Knex } from "knex";
import { type AuditFilter, auditQuery } from "./audit-search.js";

/** One change worth answering "who did that, and when?" for. */
export interface AuditEntry {
  /** `user:EMAIL`, or `system:NAME` for start-up and the CLI. */
  actor: string;
  /** Dotted verb, e.g. `authz.granted`, `agent.updated`. */
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
  requestId?: string;
}

export interface AuditRecord
  extends Required<Omit<AuditEntry, "requestId" | "targetType" | "targetId">> {
  id: number;
  occurredAt: Date;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
}

interface AuditRow {
  id: number;
  occurred_at: Date;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
}

/** The append-only audit log. Pass a transaction so the entry commits with the change it records. */
export class AuditLog {
  constructor(private readonly knex: Knex) {}

  async record(entry: AuditEntry, trx: Knex | Knex.Transaction = this.knex): Promise<void> {
    await trx("audit_log").insert({
      actor: entry.actor,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      details: entry.details ?? {},
      request_id: entry.requestId ?? null,
    });
  }

  /** Newest first. */
  async recent(
    options: { limit?: number; targetType?: string; targetId?: string } = {},
  ): Promise<AuditRecord[]> {
    const query = this.knex<AuditRow>("audit_log")
      .orderBy("id", "desc")
      .limit(options.limit ?? 50);
    if (options.targetType) query.where("target_type", options.targetType);
    if (options.targetId) query.where("target_id", options.targetId);
    return ((await query) as AuditRow[]).map(toRecord);
  }

  /** Newest first, narrowed by `filter` (see `AuditFilter`); a filter it cannot read is a 400. */
  async search(filter: AuditFilter): Promise<AuditRecord[]> {
    return ((await auditQuery(this.knex, filter)) as AuditRow[]).map(toRecord);
  }
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    occurredAt: row.occurred_at,
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: row.details,
    requestId: row.request_id,
  };
}
