import { describe, expect, it } from "vitest";
import type { AgentUsageReport } from "../../usage/index.js";
import { usageSection } from "./usage-charts.js";

function report(values: [number, number][]): AgentUsageReport {
  const days = values.map(([runs, costUsd], i) => ({
    day: `2026-11-${String(i + 1).padStart(2, "0")}`,
    runs,
    costUsd,
  }));
  return {
    days,
    totals: {
      runs: days.reduce((sum, d) => sum + d.runs, 0),
      costUsd: days.reduce((sum, d) => sum + d.costUsd, 0),
    },
    byRuntimeModel: [
      {
        runtime: "a2a",
        model: "claude-sonnet",
        inputTokens: 12000,
        outputTokens: 3400,
        costUsd: 1.5,
      },
      { runtime: null, model: "gpt-4o", inputTokens: 10, outputTokens: 2, costUsd: 0.004 },
    ],
  };
}

describe("usageSection", () => {
  const text = usageSection(
    report([
      [2, 0.5],
      [0, 0],
      [8, 1.004],
    ]),
  ).text;

  it("sums up the window for a screen reader in each chart's label", () => {
    expect(text).toContain(
      'aria-label="Runs per day, last 3 days: 10 runs in total; the most on Nov 3, 8."',
    );
    expect(text).toContain(
      'aria-label="Spend per day, last 3 days: $1.50 in total; the most on Nov 3, $1.00."',
    );
  });

  it("draws one bar per day, scaled to a round top, and a table of every figure", () => {
    // Top of the runs axis is 10: 8 runs is 80% of the 136 px plot.
    expect(text).toMatch(/<rect class="chart-bar"[^>]*height="108\.8"><title>Nov 3: 8<\/title>/);
    expect(text).toMatch(/<rect class="chart-bar"[^>]*height="0\.0"><title>Nov 2: 0<\/title>/);
    expect(text.match(/<rect class="chart-bar"/g)).toHaveLength(6);
    expect(text).toContain('<tr><th scope="row">Nov 1</th><td class="num">$0.50</td></tr>');
  });

  it("lists spend by runtime and model, naming proxy calls that have no runtime", () => {
    expect(text).toContain('<td>a2a</td><td>claude-sonnet</td><td class="num">12,000</td>');
    expect(text).toContain("<td>via the model proxy</td><td>gpt-4o</td>");
    expect(text).toContain("$0.004");
  });

  it("says so when nothing happened rather than drawing an empty axis alone", () => {
    const empty = usageSection(
      report([
        [0, 0],
        [0, 0],
      ]),
    ).text;
    expect(empty).toContain('aria-label="Runs per day: none in the last 2 days."');
    expect(empty).toContain("None in the last 2 days");
  });
});
