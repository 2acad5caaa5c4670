/**
 * Runs conformance files against the embedded evaluator and prints the results:
 *   npx tsx authz/conformance/cli.ts <file.yaml|file.fga.yaml>...
 * Exits 1 when any assertion fails.
 */

import { embeddedTarget } from "./embedded-target.js";
import { loadConformanceFile } from "./load.js";
import { formatReport, formatTotals } from "./report.js";
import { runConformance, totalsOf } from "./runner.js";
import type { CaseResult } from "./suite.js";

const paths = process.argv.slice(2);
if (paths.length === 0) {
  console.error("usage: tsx authz/conformance/cli.ts <conformance file>...");
  process.exit(2);
}

const allCases: CaseResult[] = [];
for (const [index, path] of paths.entries()) {
  const report = await runConformance(embeddedTarget(), loadConformanceFile(path));
  allCases.push(...report.cases);
  console.log(`${index > 0 ? "\n" : ""}${formatReport(report)}`);
}
const totals = totalsOf(allCases);
if (paths.length > 1) console.log(`\n${formatTotals(totals)}`);
process.exitCode = totals.failed > 0 ? 1 : 0;
