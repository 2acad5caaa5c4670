import type { Approval, BudgetReport } from "../../../governance/index.js";
import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";
import { formatTime } from "./format.js";

export interface Notice {
  kind: "done" | "error";
  text: string;
}

const csrf = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
const usd = (value: number) => `$${value.toFixed(2)}`;
const noticeOf = (notice: Notice | undefined) =>
  notice &&
  html`<p class="notice ${notice.kind === "error" ? "notice-error" : "notice-done"}" role="${notice.kind === "error" ? "alert" : "status"}">${notice.text}</p>`;

const MODE_WORDS = {
  hard: "Hard: runs over it are refused",
  approval: "Approval: an approver decides",
  notify: "Notify: warns at thresholds",
} as const;

/** A bar of what is spent (and held by runs in progress) against the limit. */
function usage(budget: BudgetReport): Html {
  const used = budget.limitUsd > 0 ? (budget.spentUsd + budget.reservedUsd) / budget.limitUsd : 0;
  const percent = Math.round(used * 100);
  return html`<meter min="0" max="100" low="80" high="99" optimum="0" value="${Math.min(percent, 100)}" aria-label="${percent}% of ${usd(budget.limitUsd)}"></meter> <span class="small">${percent}%</span>`;
}

/**
 * "Budgets": the budgets the person may see (their own, their teams' as admin, all as a
 * platform admin), each with what is spent and held this period; the form sets one, for
 * those who may (governance refuses the others, in words).
 */
export function budgetsPage(options: {
  budgets: BudgetReport[];
  csrfToken: string;
  notice?: Notice | undefined;
  draft?: Record<string, string | undefined> | undefined;
}): Html {
  const { csrfToken: token, draft } = options;
  return html`<div class="page-intro">
  <h1>Budgets</h1>
  <p class="lede">What teams, agents and people may spend on agents per day, week or month (UTC). A run that would go over a hard budget does not start; over an approval budget it waits for an approver's yes.</p>
</div>
${noticeOf(options.notice)}
${
  options.budgets.length === 0
    ? html`<div class="empty card"><p><strong>No budgets you can see.</strong></p></div>`
    : html`<div class="table-wrap"><table>
  <thead><tr><th scope="col">Scope</th><th scope="col">Period</th><th scope="col">Amount</th><th scope="col">Mode</th><th scope="col">Spent</th><th scope="col">Held by runs</th><th scope="col">Use</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${options.budgets.map(
    (b) => html`<tr>
    <td><code>${b.scope}</code></td><td>${b.period === "none" ? "in total" : b.period}</td>
    <td>${usd(b.amountUsd)}${b.limitUsd !== b.amountUsd ? html` <span class="small muted">(${usd(b.limitUsd)} with raises)</span>` : ""}</td>
    <td>${MODE_WORDS[b.mode]}</td><td>${usd(b.spentUsd)}</td><td>${usd(b.reservedUsd)}</td><td>${usage(b)}</td>
    <td><form method="post" action="/budgets/${b.id}/delete">${csrf(token)}<button type="submit" class="button-quiet">Delete</button></form></td>
  </tr>`,
  )}</tbody>
</table></div>`
}
<section class="card" aria-labelledby="new-budget">
  <h2 id="new-budget">Set a budget</h2>
  <form method="post" action="/budgets" class="secret-form">
    ${csrf(token)}
    <label for="budget-scope">Scope</label>
    <input type="text" id="budget-scope" name="scope" required maxlength="300" value="${draft?.scope ?? ""}" placeholder="team:research" aria-describedby="budget-scope-hint">
    <p id="budget-scope-hint" class="small muted">team:SLUG (a team you are an admin of), or, for platform admins, agent:NAME, user:EMAIL or platform. The same scope and period again replaces it.</p>
    <label for="budget-period">Period</label>
    <select id="budget-period" name="period">${["month", "week", "day", "none"].map(
      (p) =>
        html`<option value="${p}"${(draft?.period ?? "month") === p ? html` selected` : ""}>${p === "none" ? "none (in total)" : p}</option>`,
    )}</select>
    <label for="budget-amount">Amount (USD)</label>
    <input type="number" id="budget-amount" name="amount_usd" required min="0.01" step="0.01" value="${draft?.amount_usd ?? ""}">
    <label for="budget-mode">Mode</label>
    <select id="budget-mode" name="mode">${(["hard", "approval", "notify"] as const).map(
      (m) =>
        html`<option value="${m}"${(draft?.mode ?? "hard") === m ? html` selected` : ""}>${MODE_WORDS[m]}</option>`,
    )}</select>
    <button type="submit">Save</button>
  </form>
</section>`;
}

/** "Approvals": runs waiting for the person's yes or no, oldest first. */
export function approvalsPage(options: {
  approvals: Approval[];
  csrfToken: string;
  notice?: Notice | undefined;
}): Html {
  const token = options.csrfToken;
  return html`<div class="page-intro">
  <h1>Approvals</h1>
  <p class="lede">Runs that would take a budget you approve past its limit. Approve to let the run start (and, if you choose, raise the budget for this period); deny to stop it with your reason. The person who asked is told either way.</p>
</div>
${noticeOf(options.notice)}
${
  options.approvals.length === 0
    ? html`<div class="empty card"><p><strong>Nothing waits for you.</strong></p></div>`
    : options.approvals.map(
        (a) => html`<section class="card secret" aria-labelledby="approval-${a.id}">
  <h2 id="approval-${a.id}">${a.requesterEmail} asks to run <a href="/agents/${a.agentName}">${a.agentName}</a></h2>
  <blockquote>${a.summary}</blockquote>
  <dl class="secret-facts">
    <dt>Budget</dt><dd><code>${a.budgetScope}</code>: ${usd(a.spentUsd)} of ${usd(a.limitUsd)} spent or held</dd>
    <dt>This run</dt><dd>up to ${usd(a.estimateUsd)}</dd>
    <dt>Asked</dt><dd><time datetime="${a.createdAt.toISOString()}">${formatTime(a.createdAt)}</time>; expires <time datetime="${a.expiresAt.toISOString()}">${formatTime(a.expiresAt)}</time></dd>
  </dl>
  <form method="post" action="/approvals/${a.id}/approve" class="secret-form">
    ${csrf(token)}
    <label for="raise-${a.id}">Raise the budget for this period by (USD, optional)</label>
    <input type="number" id="raise-${a.id}" name="raise_usd" min="0.01" step="0.01">
    <button type="submit">Approve</button>
  </form>
  <form method="post" action="/approvals/${a.id}/deny" class="secret-form">
    ${csrf(token)}
    <label for="reason-${a.id}">Reason (shown to ${a.requesterEmail})</label>
    <input type="text" id="reason-${a.id}" name="reason" maxlength="1000">
    <button type="submit" class="button-quiet">Deny</button>
  </form>
</section>`,
      )
}`;
}
