/**
 * The cost ledger (shared with the model proxy), budgets, approvals and the audit log.
 * Depends on authz (who may approve).
 *
 * Its public API is exported from here as it is built.
 */

export { type AuditEntry, AuditLog, type AuditRecord } from "./audit/audit-log.js";
export { AuditReader, presentAuditRecord } from "./audit/audit-reader.js";
export { type AuditFilter, MAX_AUDIT_LIMIT } from "./audit/audit-search.js";
export type { LedgerEntry } from "./ledger/ledger-entry.js";
export {
  LedgerWriter,
  type LedgerWriterOptions,
  spendByApiKey,
} from "./ledger/ledger-writer.js";
export * from "./spend/index.js";
export * from "./tracing/index.js";
