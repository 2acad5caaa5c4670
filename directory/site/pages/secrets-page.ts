import type { SecretSummary } from "../../../secrets/index.js";
import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";
import { formatTime } from "./format.js";

export interface SecretsPageOptions {
  secrets: SecretSummary[];
  csrfToken: string;
  /** The signed-in person's own owner reference, `user:EMAIL`: the new-secret form's default. */
  me: string;
  /** What the last change did, or why it was refused. */
  notice?: { kind: "done" | "error"; text: string } | undefined;
  /** What the new-secret form held when it was refused (never its value). */
  draft?: { name?: string; owner?: string; description?: string } | undefined;
  /** Set when the store is off: the sentence saying which setting turns it on. */
  off?: string | undefined;
}

const csrf = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;

/** The value's field: a password input, never filled in, never remembered by the browser. */
const valueField = (id: string, required: boolean) => html`<label for="${id}">Value</label>
<input type="password" id="${id}" name="value" autocomplete="new-password" spellcheck="false"${required ? html` required` : ""}>`;

function secretRow(secret: SecretSummary, token: string): Html {
  const base = `/secrets/${encodeURIComponent(secret.name)}`;
  return html`<section class="card secret" aria-labelledby="secret-${secret.name}">
  <div class="secret-head">
    <h2 id="secret-${secret.name}"><code>${secret.name}</code></h2>
    <form method="post" action="${base}/delete">${csrf(token)}<button type="submit" class="button-quiet">Delete</button></form>
  </div>
  ${secret.description && html`<p>${secret.description}</p>`}
  <dl class="secret-facts">
    <dt>Owner</dt><dd>${secret.owner}</dd>
    <dt>Version</dt><dd>${secret.version}</dd>
    <dt>Updated</dt><dd><time datetime="${secret.updatedAt.toISOString()}">${formatTime(secret.updatedAt)}</time> by ${secret.updatedBy}</dd>
    <dt>In manifests</dt><dd><code>{ secret: ${secret.name} }</code></dd>
  </dl>
  <h3>Agents that may use it</h3>
  ${
    secret.agents.length === 0
      ? html`<p class="muted">None yet: no agent's runs can use it.</p>`
      : html`<ul class="secret-agents">${secret.agents.map(
          (agent) => html`<li><a href="/agents/${agent}">${agent}</a>
      <form method="post" action="${base}/grants/${agent}/revoke">${csrf(token)}<button type="submit" class="button-quiet">Revoke</button></form></li>`,
        )}</ul>`
  }
  <form method="post" action="${base}/grants" class="secret-form">
    ${csrf(token)}
    <label for="grant-${secret.name}">Grant to an agent</label>
    <div class="search-row"><input type="text" id="grant-${secret.name}" name="agent" required placeholder="agent-name"><button type="submit">Grant</button></div>
  </form>
  <details>
    <summary>Replace the value or the description</summary>
    <form method="post" action="/secrets" class="secret-form">
      ${csrf(token)}
      <input type="hidden" name="name" value="${secret.name}">
      ${valueField(`value-${secret.name}`, false)}
      <label for="description-${secret.name}">Description</label>
      <input type="text" id="description-${secret.name}" name="description" value="${secret.description}" maxlength="500">
      <button type="submit">Save</button>
    </form>
  </details>
</section>`;
}

/**
 * "Secrets": the credentials a person (or their team) keeps for agents. Metadata only: a
 * value goes in through a password field and is never shown again, here or anywhere.
 */
export function secretsPage(options: SecretsPageOptions): Html {
  const { csrfToken: token, draft } = options;
  return html`<div class="page-intro">
  <h1>Secrets</h1>
  <p class="lede">Credentials your agents use, kept encrypted. An agent's manifest refers to one as <code>{ secret: NAME }</code>, and only the agents you grant it to can use it. Values are never shown again once saved.</p>
</div>
${options.off && html`<p class="notice notice-error" role="alert">${options.off}</p>`}
${options.notice && html`<p class="notice ${options.notice.kind === "error" ? "notice-error" : "notice-done"}" role="${options.notice.kind === "error" ? "alert" : "status"}">${options.notice.text}</p>`}
${
  !options.off &&
  html`${
    options.secrets.length === 0
      ? html`<div class="empty card"><p><strong>You own no secrets yet.</strong></p></div>`
      : options.secrets.map((secret) => secretRow(secret, token))
  }
<section class="card" aria-labelledby="new-secret">
  <h2 id="new-secret">New secret</h2>
  <form method="post" action="/secrets" class="secret-form">
    ${csrf(token)}
    <label for="new-name">Name</label>
    <input type="text" id="new-name" name="name" required maxlength="100" value="${draft?.name ?? ""}" placeholder="triage-api-key">
    <label for="new-owner">Owner</label>
    <input type="text" id="new-owner" name="owner" required value="${draft?.owner ?? options.me}" aria-describedby="new-owner-hint">
    <p id="new-owner-hint" class="small muted">Yourself (${options.me}), or team:SLUG for a team you are an admin of.</p>
    <label for="new-description">Description</label>
    <input type="text" id="new-description" name="description" maxlength="500" value="${draft?.description ?? ""}">
    ${valueField("new-value", true)}
    <button type="submit">Create</button>
  </form>
</section>`
}`;
}
