import { type AccessPolicy, PLATFORM, type Principal } from "../../authz/index.js";
import { forbidden } from "../../core/index.js";
import type { AuditLog, AuditRecord } from "./audit-log.js";
import type { AuditFilter } from "./audit-search.js";

/** The audit log as platform admins read it (the API's JSON lines, the admin page's CSV). */
export class AuditReader {
  constructor(
    private readonly log: AuditLog,
    private readonly access: AccessPolicy,
  ) {}

  async search(principal: Principal, filter: AuditFilter): Promise<AuditRecord[]> {
    if (!(await this.access.can(principal, "admin", PLATFORM))) {
      throw forbidden("Only platform admins may read the audit log.");
    }
    return this.log.search(filter);
  }
}

/** One entry as the API writes it (a JSON line) and the CSV's columns are named. */
export function presentAuditRecord(record: AuditRecord) {
  return {
    id: Number(record.id),
    occurred_at: new Date(record.occurredAt).toISOString(),
    actor: record.actor,
    action: record.action,
    target_type: record.targetType,
    target_id: record.targetId,
    details: record.details,
    request_id: record.requestId,
  };
}
