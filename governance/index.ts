/**
 * The cost ledger (shared with the model proxy), budgets, approvals and the audit log.
 * Depends on authz (who may approve).
 *
 * Its public API is exported from here as it is built.
 */

export { type AuditEntry, AuditLog, type AuditRecord } from "./audit/audit-log.js";
export type { LedgerEntry } from "./ledger/ledger-entry.js";
export {
  LedgerWriter,
  type LedgerWriterOptions,
  spendByApiKey,
} from "./ledger/ledger-writer.js";
export * from "./spend/index.js";
