import {
  SPEND_GROUPS,
  type SpendAnswer,
  type SpendGroup,
  type SpendViewer,
} from "../../../governance/index.js";
import { type Html, html } from "../html.js";
import { formatDay, formatUsd } from "./format.js";
import { barChart } from "./usage-charts.js";

/** The filters as the form holds them (what was asked, even when refused). */
export type SpendForm = Partial<
  Record<"group_by" | "from" | "to" | "team" | "user" | "agent" | "runtime" | "model", string>
>;

const GROUP_LABELS: Record<SpendGroup, string> = {
  team: "Team",
  user: "Person",
  agent: "Agent",
  runtime: "Runtime",
  model: "Model",
};

const FILTERS = [
  ["team", "Team", "slug"],
  ["user", "Person", "email"],
  ["agent", "Agent", "name"],
  ["runtime", "Runtime", "e.g. a2a"],
  ["model", "Model", "e.g. gpt-4o"],
] as const;

const count = (n: number) => n.toLocaleString("en-US");

/** The query string of the form's values, for the CSV link and the breakdown's links. */
export function spendQuery(form: SpendForm, change: SpendForm = {}): string {
  const values = { ...form, ...change };
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
  return params.toString();
}

function whoSees(viewer: SpendViewer): string {
  if (viewer.visibility === "all") return "Everyone's spend: you are a platform admin.";
  if (viewer.visibility === "teams") {
    return `The spend of the teams you are an admin of (${viewer.teams.join(", ")}: their agents' runs and model calls), and your own.`;
  }
  return "Your own spend: your runs and your model calls.";
}

function filterForm(form: SpendForm, viewer: SpendViewer): Html {
  const group = (form.group_by ?? "team") as SpendGroup;
  return html`<form method="get" action="/spend" class="spend-filters card" aria-label="Filters">
  <div class="field"><label for="spend-group">Group by</label>
    <select id="spend-group" name="group_by">${SPEND_GROUPS.map(
      (g) =>
        html`<option value="${g}"${g === group ? html` selected` : ""}>${GROUP_LABELS[g]}</option>`,
    )}</select></div>
  <div class="field"><label for="spend-from">From</label><input type="date" id="spend-from" name="from" value="${form.from ?? ""}" required></div>
  <div class="field"><label for="spend-to">To</label><input type="date" id="spend-to" name="to" value="${form.to ?? ""}" required></div>
  ${FILTERS.filter(
    ([name]) => viewer.visibility !== "own" || (name !== "team" && name !== "user"),
  ).map(
    ([name, label, hint]) =>
      html`<div class="field"><label for="spend-${name}">${label}</label><input type="text" id="spend-${name}" name="${name}" value="${form[name] ?? ""}" placeholder="${hint}" maxlength="200"></div>`,
  )}
  <div class="field field-actions"><button type="submit">Show</button></div>
</form>`;
}

/** The breakdown's key, linked to the same page filtered on it (grouped by the next dimension). */
function keyCell(answer: SpendAnswer, form: SpendForm, key: string | null): Html {
  if (key === null) return html`<span class="muted">none</span>`;
  const next: Record<SpendGroup, SpendGroup> = {
    team: "user",
    user: "agent",
    agent: "model",
    runtime: "model",
    model: "user",
  };
  const href = `/spend?${spendQuery(form, { [answer.group_by]: key, group_by: next[answer.group_by] })}`;
  return html`<a href="${href}">${key}</a>`;
}

/**
 * The spend page: who the figures cover, the filters, totals, spend per day (inline SVG, no
 * script), the breakdown, and a CSV download of the same figures. `error` is a refused
 * request's reason, shown above the form that made it.
 */
export function spendPage(options: {
  viewer: SpendViewer;
  form: SpendForm;
  answer?: SpendAnswer | undefined;
  error?: string | undefined;
}): Html {
  const { viewer, form, answer } = options;
  const perRun = answer && answer.runs > 0 ? formatUsd(answer.total_usd / answer.runs) : "—";
  return html`<div class="page-intro"><h1>Spend</h1>
<p class="lede">${whoSees(viewer)} Days are UTC days; figures come from the ledger (what runtimes reported and the model calls made through the proxy).</p></div>
${options.error && html`<p class="notice notice-error" role="alert">${options.error}</p>`}
${filterForm(form, viewer)}
${
  answer &&
  html`<section aria-labelledby="spend-totals">
  <h2 id="spend-totals" class="visually-hidden">Totals</h2>
  <dl class="stats">
    <div><dt>Spend</dt><dd id="spend-total">${formatUsd(answer.total_usd)}</dd></div>
    <div><dt>Runs</dt><dd>${count(answer.runs)}</dd></div>
    <div><dt>Per run</dt><dd>${perRun}</dd></div>
    ${answer.estimated_usd > 0 && html`<div><dt>Of which estimated</dt><dd id="spend-estimated">${formatUsd(answer.estimated_usd)}</dd></div>`}
  </dl>
  <p><a class="button-quiet" href="/spend.csv?${spendQuery(form, { from: answer.from, to: answer.to, group_by: answer.group_by })}" download>Download CSV</a></p>
  <div class="charts card">${barChart(
    answer.days.map((d) => ({ day: d.day, runs: d.runs, costUsd: d.cost_usd })),
    {
      id: "spend-per-day",
      title: "Spend per day",
      unit: "Spend",
      value: (d) => d.costUsd,
      format: formatUsd,
      total: formatUsd(answer.total_usd),
      period: `days from ${formatDay(answer.from)} to ${formatDay(answer.to)}`,
    },
  )}</div>
</section>
<section aria-labelledby="spend-breakdown">
  <h2 id="spend-breakdown">By ${GROUP_LABELS[answer.group_by].toLowerCase()}</h2>
  ${
    answer.items.length === 0
      ? html`<p class="muted">No spend in this range.</p>`
      : html`<div class="table-wrap"><table class="breakdown" id="spend-items">
    <thead><tr><th scope="col">${GROUP_LABELS[answer.group_by]}</th><th scope="col" class="num">Spend</th><th scope="col" class="num">Share</th><th scope="col" class="num">Runs</th></tr></thead>
    <tbody>${answer.items.map(
      (item) =>
        html`<tr><th scope="row">${keyCell(answer, form, item.key)}</th><td class="num">${formatUsd(item.cost_usd)}${item.estimated_usd > 0 && html` <span class="muted">(${formatUsd(item.estimated_usd)} estimated)</span>`}</td><td class="num">${answer.total_usd > 0 ? `${((item.cost_usd / answer.total_usd) * 100).toFixed(1)}%` : "—"}</td><td class="num">${count(item.runs)}</td></tr>`,
    )}</tbody>
  </table></div>
  <p class="muted">Each run counts once, in the group and on the day of its first cost: a run that used two models counts under the first.</p>
  ${answer.estimated_usd > 0 && html`<p class="muted">Estimated: runtimes that bill by their own meter (Cursor runs, AgentCore compute) are booked at the rate their agent's manifest sets, not from the vendor's bill.</p>`}`
  }
</section>`
}`;
}
