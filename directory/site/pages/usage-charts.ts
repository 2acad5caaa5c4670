import type { AgentUsageReport, DailyUsage } from "../../usage/index.js";
import { type Html, html } from "../html.js";
import { formatDay, formatUsd } from "./format.js";

/** 1, 2 or 5 times a power of ten, at or above `value`: round numbers on the axis. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export interface Series {
  id: string;
  title: string;
  /** What one bar is, for its tooltip and the table's column: "runs", "spend". */
  unit: string;
  value: (day: DailyUsage) => number;
  format: (value: number) => string;
  total: string;
  /** Counts: no half-run gridline. */
  whole?: boolean;
  /** The span in words, for the summary: "last 30 days" unless told (the spend page's range). */
  period?: string;
}

const HEIGHT = 180;
const PLOT = { top: 18, bottom: 26 };
const pct = (value: number) => `${value.toFixed(2)}%`;

/**
 * One bar per day, drawn on the server as inline SVG (no chart library, no script). Bars are
 * placed in percentages of the width and text in pixels, so the chart fills any column and
 * its labels stay legible at phone width. The SVG is an image with a one-line summary for
 * screen readers; the table under it, behind a disclosure, holds every figure.
 */
export function barChart(days: DailyUsage[], series: Series): Html {
  const values = days.map(series.value);
  const most = Math.max(...values);
  const top = niceMax(most);
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const slot = 100 / days.length;
  const y = (value: number) => PLOT.top + plotHeight - (value / top) * plotHeight;
  const busiest = days[values.indexOf(most)];
  const period = series.period ?? `last ${days.length} days`;
  const summary =
    most === 0
      ? `${series.title}: none in the ${period}.`
      : `${series.title}, ${period}: ${series.total} in total; the most on ${formatDay(busiest?.day ?? "")}, ${series.format(most)}.`;
  const ticks = [0, top / 2, top].filter((tick) => !series.whole || Number.isInteger(tick));
  const labelled = [0, Math.floor(days.length / 2), days.length - 1];
  return html`<figure class="chart" aria-labelledby="${series.id}-caption">
  <figcaption id="${series.id}-caption"><span class="chart-title">${series.title}</span> <span class="chart-total">${series.total}</span></figcaption>
  <svg class="chart-svg" width="100%" height="${HEIGHT}" role="img" aria-label="${summary}">
    ${ticks.map((tick) => html`<line class="chart-grid" x1="0" x2="100%" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}"></line>`)}
    ${days.map((day, i) => {
      const value = values[i] ?? 0;
      const height = Math.max(value > 0 ? 2 : 0, (value / top) * plotHeight);
      return html`<rect class="chart-bar" x="${pct(i * slot + slot * 0.15)}" y="${(PLOT.top + plotHeight - height).toFixed(1)}" width="${pct(slot * 0.7)}" height="${height.toFixed(1)}"><title>${formatDay(day.day)}: ${series.format(value)}</title></rect>`;
    })}
    ${ticks
      // Only the top line is labelled: bars never reach above it, so its label never covers one.
      .filter((tick) => tick === top)
      .map(
        (tick) =>
          html`<text class="chart-axis" x="0" y="${(y(tick) - 5).toFixed(1)}">${series.format(tick)}</text>`,
      )}
    ${most === 0 && html`<text class="chart-empty" x="50%" y="${PLOT.top + plotHeight * 0.75}" text-anchor="middle">None in the ${period}</text>`}
    ${labelled.map((i) => {
      const day = days[i];
      if (!day) return "";
      const anchor = i === 0 ? "start" : i === days.length - 1 ? "end" : "middle";
      const x = i === 0 ? "0" : i === days.length - 1 ? "100%" : pct((i + 0.5) * slot);
      return html`<text class="chart-axis" x="${x}" y="${HEIGHT - 6}" text-anchor="${anchor}">${formatDay(day.day)}</text>`;
    })}
  </svg>
  <details class="chart-table">
    <summary>${series.title} as a table</summary>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Day (UTC)</th><th scope="col" class="num">${series.unit}</th></tr></thead>
      <tbody>${days.map((day) => html`<tr><th scope="row">${formatDay(day.day)}</th><td class="num">${series.format(series.value(day))}</td></tr>`)}</tbody>
    </table></div>
  </details>
</figure>`;
}

const count = (n: number) => n.toLocaleString("en-US");

/** The agent page's "Usage" section: totals, runs and spend per day, spend by runtime and model. */
export function usageSection(report: AgentUsageReport): Html {
  const { totals } = report;
  const perRun = totals.runs > 0 ? formatUsd(totals.costUsd / totals.runs) : "—";
  return html`<section class="usage" aria-labelledby="usage">
  <h2 id="usage">Usage in the last 30 days</h2>
  <dl class="stats">
    <div><dt>Runs</dt><dd>${count(totals.runs)}</dd></div>
    <div><dt>Spend</dt><dd>${formatUsd(totals.costUsd)}</dd></div>
    <div><dt>Per run</dt><dd>${perRun}</dd></div>
  </dl>
  <div class="charts card">
    ${barChart(report.days, {
      id: "runs-chart",
      title: "Runs per day",
      unit: "Runs",
      value: (d) => d.runs,
      format: count,
      whole: true,
      total: `${count(totals.runs)} ${totals.runs === 1 ? "run" : "runs"}`,
    })}
    ${barChart(report.days, {
      id: "spend-chart",
      title: "Spend per day",
      unit: "Spend",
      value: (d) => d.costUsd,
      format: formatUsd,
      total: formatUsd(totals.costUsd),
    })}
  </div>
  <h3>By runtime and model</h3>
  ${
    report.byRuntimeModel.length === 0
      ? html`<p class="muted small">No spend recorded in the last 30 days.</p>`
      : html`<div class="table-wrap"><table class="breakdown">
    <thead><tr><th scope="col">Runtime</th><th scope="col">Model</th><th scope="col" class="num">Tokens in</th><th scope="col" class="num">Tokens out</th><th scope="col" class="num">Spend</th></tr></thead>
    <tbody>${report.byRuntimeModel.map(
      (row) =>
        html`<tr><td>${row.runtime ?? "via the model proxy"}</td><td>${row.model ?? "—"}</td><td class="num">${count(row.inputTokens)}</td><td class="num">${count(row.outputTokens)}</td><td class="num">${formatUsd(row.costUsd)}</td></tr>`,
    )}</tbody>
  </table></div>`
  }
</section>`;
}
