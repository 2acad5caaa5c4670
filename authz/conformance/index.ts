/**
 * Runs OpenFGA conformance cases — OpenFGA's own suite format, or store test files
 * (`.fga.yaml`) — as data against any ConformanceTarget, and reports the results.
 *
 *   const report = await runConformance(embeddedTarget(), loadConformanceFile(path));
 *   console.log(formatReport(report)); // ends with "N passed, N failed[, N skipped]"
 */

export { embeddedTarget } from "./embedded-target.js";
export { loadConformanceFile } from "./load.js";
export { formatCase, formatReport, formatTotals } from "./report.js";
export { runConformance, runConformanceCase, totalsOf } from "./runner.js";
export type {
  Assertion,
  AssertionResult,
  CaseResult,
  ConformanceCase,
  ConformanceFile,
  ConformanceReport,
  Expectation,
  StageSpec,
  Status,
  Totals,
} from "./suite.js";
export type { ConformanceStage, ConformanceStore, ConformanceTarget } from "./target.js";
