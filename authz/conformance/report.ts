/**
 * Plain-text rendering of conformance results for a terminal or a test log: one line per
 * case, the details of every failure and skip, and a last line `N passed, N failed` (with
 * skips counted apart).
 */

import type { CaseResult, ConformanceReport, Totals } from "./suite.js";

export function formatReport(report: ConformanceReport): string {
  const lines = [`${report.target} against ${report.source}`];
  for (const each of report.cases) lines.push(...formatCase(each));
  lines.push(formatTotals(report.totals));
  return lines.join("\n");
}

export function formatCase(result: CaseResult): string[] {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const each of result.assertions) counts[each.status]++;
  const lines = [
    `${symbol[result.status]} ${result.name} (${counts.passed}/${result.assertions.length} passed)`,
  ];
  for (const each of result.assertions) {
    if (each.status === "failed") {
      lines.push(
        `    ✗ stage ${each.stage}: ${each.label}: expected ${each.expected}, got ${each.actual}`,
      );
    } else if (each.status === "skipped") {
      lines.push(`    - stage ${each.stage}: ${each.label}: skipped: ${each.reason}`);
    }
  }
  return lines;
}

export function formatTotals(totals: Totals): string {
  const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : "";
  return `${totals.passed} passed, ${totals.failed} failed${skipped}`;
}

const symbol = { passed: "✓", failed: "✗", skipped: "-" } as const;
