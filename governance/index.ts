/**
 * The cost ledger (shared with the model proxy), budgets, approvals and the audit log.
 * Depends on authz (who may manage budgets and approve overruns).
 *
 * The ledger table has one owner, `Ledger`: sessions, the proxy, the chat surfaces and the
 * site book and read cost through it; governance/spend groups it for the spend views.
 * Budgets are held at admission (`BudgetAdmission`, called by the runs service for every
 * surface) and while a run runs; `Approvals` decides held runs for every surface.
 */

export {
  type Approval,
  type ApprovalStatus,
  summaryOf,
} from "./approvals/approval.js";
export {
  ApprovalNotifiers,
  approvalRequestWords,
  thresholdWords,
} from "./approvals/approval-notifiers.js";
export {
  type ApprovalNotifier,
  Approvals,
  type ApprovalsOptions,
  type ApproverQuery,
  approverQuery,
  type DecisionInput,
  type DecisionResult,
  type HeldRuns,
  type ThresholdNotice,
} from "./approvals/approvals.js";
export { type AuditEntry, AuditLog, type AuditRecord } from "./audit/audit-log.js";
export { AuditReader, presentAuditRecord } from "./audit/audit-reader.js";
export { type AuditFilter, MAX_AUDIT_LIMIT } from "./audit/audit-search.js";
export {
  type Budget,
  type BudgetMode,
  MODES,
  parseBudgetRequest,
} from "./budgets/budget.js";
export {
  BudgetAdmission,
  type BudgetDecision,
  type BudgetStanding,
  type BudgetSubject,
  type BudgetWarning,
  budgetsMayApply,
  type ExhaustedBudgets,
  exhaustedFor,
} from "./budgets/budget-admission.js";
export { type BudgetReport, Budgets } from "./budgets/budgets.js";
export { type BudgetPeriod, PERIODS, periodWindow } from "./budgets/periods.js";
export { bookLedgerEntries, Ledger } from "./ledger/ledger.js";
export type { LedgerEntry } from "./ledger/ledger-entry.js";
export {
  LedgerWriter,
  type LedgerWriterOptions,
  spendByApiKey,
} from "./ledger/ledger-writer.js";
export { parseScope, type SpendScope, scopeText, whereInScope } from "./ledger/scope.js";
export {
  SPEND_TOTALS,
  type SpendTotalsDrift,
  spendTotalsDrift,
  totalSpendQuery,
} from "./ledger/spend-totals.js";
export * from "./spend/index.js";
export * from "./tracing/index.js";
