/**
 * The cost ledger (shared with the model proxy), budgets, approvals and the audit log.
 * Depends on authz (who may approve).
 *
 * The ledger table has one owner, `Ledger`: sessions, the proxy, the chat surfaces and the
 * site book and read cost through it; governance/spend groups it for the spend views.
 */

export { type AuditEntry, AuditLog, type AuditRecord } from "./audit/audit-log.js";
export { bookLedgerEntries, Ledger, whereInScope } from "./ledger/ledger.js";
export type { LedgerEntry } from "./ledger/ledger-entry.js";
export {
  LedgerWriter,
  type LedgerWriterOptions,
  spendByApiKey,
} from "./ledger/ledger-writer.js";
export { parseScope, type SpendScope, scopeText } from "./ledger/scope.js";
