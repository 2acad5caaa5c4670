import type { AuditRecord } from "../../../governance/index.js";
import type { Agent, AgentState } from "../../registry/index.js";
import { type Html, html } from "../html.js";
import { agentActions } from "./admin-actions.js";
import { lifecycleBadge } from "./badges.js";
import { subjectLabel } from "./layout.js";

const STATE_ORDER: AgentState[] = ["suspended", "disabled", "enabled"];

function agentTable(agents: Agent[], csrfToken?: string): Html {
  return html`<div class="table-wrap"><table>
  <thead><tr><th scope="col">Agent</th><th scope="col">Owner</th><th scope="col">Runtime</th><th scope="col">Lifecycle</th><th scope="col">Featured</th><th scope="col">Reason</th>${csrfToken !== undefined && html`<th scope="col"><span class="visually-hidden">Actions</span></th>`}</tr></thead>
  <tbody>${agents.map(
    (a) =>
      html`<tr><td><a href="/agents/${a.name}">${a.title}</a> <span class="mono small">${a.name}</span></td><td>${subjectLabel(a.owner)}</td><td>${a.runtimeType}</td><td>${lifecycleBadge(a.lifecycle)}</td><td>${a.featured ? "Featured" : ""}</td><td>${a.stateReason ?? ""}</td>${csrfToken !== undefined && html`<td class="nowrap">${agentActions(a, csrfToken)}</td>`}</tr>`,
  )}</tbody>
</table></div>`;
}

/**
 * Platform admins' view: every agent by state (suspended and disabled first), the signed-in
 * sessions (`sessions`, made by `sessionsSection`), then the audit log; and who may register
 * agents (`registrars`).
 */
export function adminPage(
  agents: Agent[],
  audit: AuditRecord[],
  more: boolean,
  sessions: Html,
  registrars: string,
  /** The audit log's filters and download, above its table. */
  auditControls?: Html,
  /** When the page acts: the form token, and the access, admins and approvals sections. */
  acting?: { csrfToken: string; actions: Html },
): Html {
  return html`<div class="page-intro"><h1>Administration</h1>
<p class="lede">Agents by state, who is signed in, and the latest changes anyone made.</p>
<p class="muted small" id="registration">Who may register agents: ${registrars} (<code>AGENT_REGISTRATION</code>).</p></div>
${STATE_ORDER.map((state) => {
  const list = agents.filter((a) => a.state === state);
  return html`<section class="admin-section" aria-labelledby="state-${state}">
  <h2 id="state-${state}">${state[0]?.toUpperCase()}${state.slice(1)} <span class="count">${list.length}</span></h2>
  ${list.length === 0 ? html`<p class="muted">None.</p>` : agentTable(list, acting?.csrfToken)}
</section>`;
})}
${more && html`<p class="muted small">Showing the first ${agents.length} agents.</p>`}
${acting?.actions}
${sessions}
<section class="admin-section" aria-labelledby="audit">
  <h2 id="audit">Audit log</h2>
  ${auditControls}
  ${
    audit.length === 0
      ? html`<p class="muted">Nothing recorded yet.</p>`
      : html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Target</th></tr></thead>
    <tbody>${audit.map(
      (e) =>
        html`<tr><td class="nowrap">${e.occurredAt.toISOString().slice(0, 19).replace("T", " ")}</td><td>${e.actor}</td><td class="mono">${e.action}</td><td>${e.targetType ? `${e.targetType}:${e.targetId ?? ""}` : ""}</td></tr>`,
    )}</tbody>
  </table></div>`
  }
</section>`;
}
