import type { Approval } from "../../../governance/index.js";
import type { Agent } from "../../registry/index.js";
import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";

/**
 * The admin page's forms: change an agent's state, grant and revoke access, make and remove
 * platform admins; and the pending budget approvals. Plain forms (no scripts, for the CSP);
 * retiring goes through a confirmation page instead of a script's confirm().
 */

const csrf = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;

/** The buttons in an agent's row: enable or suspend (whichever applies), and retire. */
export function agentActions(agent: Agent, csrfToken: string): Html {
  const to = agent.state === "enabled" ? "suspended" : "enabled";
  const label = to === "enabled" ? "Enable" : "Suspend";
  return html`<form method="post" action="/admin/agents/${agent.name}/state" class="inline-form">${csrf(csrfToken)}
    <input type="hidden" name="state" value="${to}">
    <button type="submit" class="button-quiet">${label}<span class="visually-hidden"> ${agent.name}</span></button>
  </form> <form method="post" action="/admin/agents/${agent.name}/retire" class="inline-form">${csrf(csrfToken)}
    <button type="submit" class="button-quiet">Retire…<span class="visually-hidden"> ${agent.name}</span></button>
  </form>`;
}

/** The second step of retiring: says what it does, and asks again. */
export function retireConfirmPage(agent: Agent, csrfToken: string): Html {
  return html`<div class="page-intro"><h1>Retire ${agent.title}?</h1>
<p class="lede">Retiring <span class="mono">${agent.name}</span> removes it from the directory and every grant of access to it. Its history is kept, and its name becomes free for a new agent. This cannot be undone here.</p></div>
<form method="post" action="/admin/agents/${agent.name}/retire">${csrf(csrfToken)}
  <input type="hidden" name="confirm" value="yes">
  <button type="submit" class="button-stop">Retire ${agent.name}</button>
  <a href="/admin#agents-actions">Cancel</a>
</form>`;
}

export interface AdminNotice {
  done?: string | undefined;
}

/** Grant and revoke access to an agent; make and remove platform admins. */
export function accessSection(admins: string[], csrfToken: string, notice: AdminNotice): Html {
  return html`<section class="admin-section" id="access" aria-labelledby="access-heading">
  <h2 id="access-heading">Access to agents</h2>
  ${notice.done && html`<p class="notice notice-done" role="status">${notice.done}</p>`}
  <form method="post" action="/admin/access" class="secret-form">${csrf(csrfToken)}
    <label for="access-agent">Agent</label> <input id="access-agent" name="agent" required maxlength="63" placeholder="triage">
    <label for="access-relation">Access</label> <select id="access-relation" name="relation">
      <option value="viewer">viewer (sees it)</option>
      <option value="runner" selected>runner (runs it)</option>
      <option value="editor">editor (changes it)</option>
    </select>
    <label for="access-subject">To</label> <input id="access-subject" name="subject" required maxlength="320" placeholder="ada@example.com or team:platform#member">
    <button type="submit" name="change" value="grant">Grant</button>
    <button type="submit" name="change" value="revoke" class="button-quiet">Revoke</button>
  </form>
</section>
<section class="admin-section" id="platform-admins" aria-labelledby="platform-admins-heading">
  <h2 id="platform-admins-heading">Platform admins <span class="count">${admins.length}</span></h2>
  <p class="muted">Platform admins see and change every agent, team and budget. Those in <code>SWITCHBOARD_ADMINS</code> are added at each start; the list never removes anyone.</p>
  <ul>${admins.map(
    (email) =>
      html`<li>${email} <form method="post" action="/admin/platform-admins" class="inline-form">${csrf(csrfToken)}
      <input type="hidden" name="email" value="${email}"><input type="hidden" name="change" value="revoke">
      <button type="submit" class="button-quiet">Remove<span class="visually-hidden"> ${email} as platform admin</span></button></form></li>`,
  )}</ul>
  <form method="post" action="/admin/platform-admins" class="secret-form">${csrf(csrfToken)}
    <label for="admin-email">Email</label> <input id="admin-email" name="email" type="email" required maxlength="320" placeholder="ada@example.com">
    <input type="hidden" name="change" value="grant">
    <button type="submit">Make platform admin</button>
  </form>
</section>`;
}

/** Budget approvals waiting for a decision, each linked to the approvals inbox. */
export function pendingApprovalsSection(approvals: Approval[]): Html {
  return html`<section class="admin-section" id="pending-approvals" aria-labelledby="pending-approvals-heading">
  <h2 id="pending-approvals-heading">Pending approvals <span class="count">${approvals.length}</span></h2>
  ${
    approvals.length === 0
      ? html`<p class="muted">Nothing is waiting for approval.</p>`
      : html`<ul>${approvals.map(
          (a) =>
            html`<li><a href="/approvals#approval-${a.id}">${a.agentName}</a>: ${a.requesterEmail} asks to go over ${a.budgetScope} ($${a.spentUsd.toFixed(2)} of $${a.limitUsd.toFixed(2)} spent)</li>`,
        )}</ul><p><a href="/approvals">Open the approvals inbox</a></p>`
  }
</section>`;
}
