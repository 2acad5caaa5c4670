import type { MembershipSource, TeamMember } from "../../registry/index.js";
import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";

const SOURCES: Record<MembershipSource, string> = {
  scim: "Identity provider (SCIM)",
  oidc: "Sign-in groups (OIDC)",
  manual: "Added by hand",
};

export interface TeamPageOptions {
  slug: string;
  name: string;
  members: TeamMember[];
  /** Team admins and platform admins add members by hand. */
  mayAdd: boolean;
  csrfToken: string;
  notice?: { kind: "done" | "error"; text: string } | undefined;
}

/** A team's members and where each membership came from (identity provider, OIDC, by hand). */
export function teamPage(options: TeamPageOptions): Html {
  const { members } = options;
  return html`<h1>${options.name} <span class="muted small mono">team:${options.slug}</span></h1>
${options.notice && html`<p class="notice ${options.notice.kind === "error" ? "notice-error" : "notice-done"}" role="${options.notice.kind === "error" ? "alert" : "status"}">${options.notice.text}</p>`}
<section aria-labelledby="members-heading">
  <h2 id="members-heading">Members <span class="count">${members.length}</span></h2>
  <p class="muted">Memberships from the identity provider follow its groups; those added by hand stay until someone removes them.</p>
  ${
    members.length === 0
      ? html`<p class="muted">No one is in this team yet.</p>`
      : html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Person</th><th scope="col">Member through</th></tr></thead>
    <tbody>${members.map(
      (m) =>
        html`<tr><th scope="row">${m.displayName ? html`${m.displayName} <span class="muted small">${m.email}</span>` : m.email}${m.isActive ? "" : html` <span class="badge">deactivated</span>`}</th><td>${m.sources.map((s) => SOURCES[s]).join(", ")}</td></tr>`,
    )}</tbody>
  </table></div>`
  }
</section>
${
  options.mayAdd &&
  html`<section aria-labelledby="add-heading">
  <h2 id="add-heading">Add a member by hand</h2>
  <form method="post" action="/teams/${options.slug}/members" class="inline-form">
    <input type="hidden" name="${CSRF_FIELD}" value="${options.csrfToken}">
    <label for="member-email">Email</label>
    <input id="member-email" name="email" type="email" required maxlength="320" autocomplete="off">
    <button type="submit">Add</button>
  </form>
</section>`
}`;
}
