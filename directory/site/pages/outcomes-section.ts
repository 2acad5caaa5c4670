import type { Outcome, OutcomesAnswer } from "../../../governance/index.js";
import { type Html, html } from "../html.js";
import { formatDay, formatUsd } from "./format.js";

const count = (n: number) => n.toLocaleString("en-US");
const rate = (value: number | null) => (value === null ? "—" : `${(value * 100).toFixed(1)}%`);
const seconds = (value: number | null) =>
  value === null ? "—" : value < 60 ? `${value.toFixed(1)} s` : `${(value / 60).toFixed(1)} min`;
const money = (value: number | null) => (value === null ? "—" : formatUsd(value));

function failureList(outcome: Outcome): Html {
  if (outcome.failures.length === 0) return html`<span class="muted">none</span>`;
  return html`${outcome.failures.map(
    (f, i) => html`${i > 0 ? ", " : ""}<code>${f.reason}</code> ${count(f.runs)}`,
  )}`;
}

function stats(outcome: Outcome): Html {
  return html`<dl class="stats">
    <div><dt>Runs</dt><dd>${count(outcome.runs)}</dd></div>
    <div><dt>Success rate</dt><dd>${rate(outcome.success_rate)}</dd></div>
    <div><dt>p50 / p95</dt><dd>${seconds(outcome.p50_seconds)} / ${seconds(outcome.p95_seconds)}</dd></div>
    <div><dt>Per success</dt><dd>${money(outcome.cost_per_success_usd)}</dd></div>
  </dl>`;
}

/**
 * Outcomes of runs: for one agent (its page) or for every agent (the admin page, with a row
 * per agent). The success rate leaves cancelled runs out; cost per success is everything the
 * runs cost over the successes.
 */
export function outcomesSection(answer: OutcomesAnswer, options: { perAgent: boolean }): Html {
  const { total } = answer;
  return html`<section class="admin-section outcomes" aria-labelledby="outcomes">
  <h2 id="outcomes">Outcomes, ${formatDay(answer.from)} to ${formatDay(answer.to)}</h2>
  ${stats(total)}
  <p class="small muted">${count(total.succeeded)} succeeded, ${count(total.failed)} failed (${failureList(total)}), ${count(total.cancelled)} cancelled, ${count(total.unfinished)} not finished. The success rate leaves cancelled runs out; durations run from start to end; cost per success is all the runs cost (${formatUsd(total.cost_usd)}) over the successes.</p>
  ${
    options.perAgent &&
    (answer.agents.length === 0
      ? html`<p class="muted">No runs in this range.</p>`
      : html`<div class="table-wrap"><table id="outcomes-by-agent">
    <thead><tr><th scope="col">Agent</th><th scope="col" class="num">Runs</th><th scope="col" class="num">Success</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num">Per success</th><th scope="col">Failures</th></tr></thead>
    <tbody>${answer.agents.map(
      (a) =>
        html`<tr><th scope="row"><a href="/agents/${a.agent}">${a.agent}</a></th><td class="num">${count(a.runs)}</td><td class="num">${rate(a.success_rate)}</td><td class="num">${seconds(a.p50_seconds)}</td><td class="num">${seconds(a.p95_seconds)}</td><td class="num">${money(a.cost_per_success_usd)}</td><td>${failureList(a)}</td></tr>`,
    )}</tbody>
  </table></div>`)
  }
</section>`;
}
