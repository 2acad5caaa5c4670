/**
 * Spend views: the ledger grouped by team, person, agent, runtime or model, per day, over
 * what the caller may see. Read-only; the ledger's rows are written by governance/ledger.
 */

export { type OutcomesAnswer, OutcomesService } from "./outcomes-service.js";
export {
  type AgentOutcome,
  type Outcome,
  type OutcomeFigures,
  runOutcomes,
} from "./run-outcomes.js";
export { csvCell, csvLine, spendCsv } from "./spend-csv.js";
export { type BudgetUse, registerSpendMetrics, type SpendMetricsOptions } from "./spend-metrics.js";
export {
  type ResolvedFilters,
  type SpendDay,
  type SpendFigures,
  type SpendItem,
  type SpendScope,
  spendFigures,
} from "./spend-report.js";
export {
  daysBetween,
  MAX_SPEND_DAYS,
  parseDay,
  parseSpendRequest,
  SPEND_GROUPS,
  type SpendFilters,
  type SpendGroup,
  type SpendRequest,
} from "./spend-request.js";
export {
  type SpendAnswer,
  SpendService,
  type SpendViewer,
  type SpendVisibility,
} from "./spend-service.js";
