import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";
import type { SessionSummary, SignInMethod } from "../site-sessions.js";

/** To the minute; the column heads say UTC. */
const minute = (date: Date) => date.toISOString().slice(0, 16).replace("T", " ");

const METHODS: Record<SignInMethod, string> = {
  development: "Development form",
  oidc: "OIDC",
  trusted_header: "SSO proxy header",
};

/** "Mozilla/5.0 (X11; Linux x86_64) … Chrome/131.0 Safari/537.36" → "Chrome 131 · Linux". */
export function browserLabel(userAgent: string | null): string {
  if (!userAgent) return "—";
  const browser =
    /(Edg|Firefox|Chrome|Safari)\/(\d+)/.exec(userAgent.replace("HeadlessChrome", "Chrome")) ??
    undefined;
  const system = /Windows|Mac OS X|Android|iPhone|Linux/.exec(userAgent)?.[0];
  const name = browser ? `${browser[1] === "Edg" ? "Edge" : browser[1]} ${browser[2]}` : "";
  const label = [name, system?.replace("Mac OS X", "macOS")].filter(Boolean).join(" · ");
  return label || userAgent.slice(0, 40);
}

function endForm(csrfToken: string, field: "session" | "user", value: string, label: Html) {
  return html`<form method="post" action="/admin/sessions/revoke" class="inline-form">
    <input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}">
    <input type="hidden" name="${field}" value="${value}">
    <button type="submit" class="button-quiet">${label}</button>
  </form>`;
}

/**
 * The admin's list of signed-in sessions, most recently seen first: each can be ended, or
 * every session of its person at once (signed out everywhere). `ended`: how many the last
 * action ended, to say so.
 */
export function sessionsSection(
  sessions: SessionSummary[],
  options: { csrfToken: string; ended?: number | undefined; more: boolean },
): Html {
  const { csrfToken } = options;
  return html`<section class="admin-section" id="sessions" aria-labelledby="sessions-heading">
  <h2 id="sessions-heading">Signed-in sessions <span class="count">${sessions.length}${options.more ? "+" : ""}</span></h2>
  <p class="muted">A session ends when its person signs out, 7 days after sign-in, or when you end it here: its browser is signed out at its next request. Behind an SSO proxy, the proxy signs the person in again unless they are signed out there too.</p>
  ${options.ended !== undefined && html`<p class="notice notice-done" role="status">Ended ${options.ended} ${options.ended === 1 ? "session" : "sessions"}.</p>`}
  ${
    sessions.length === 0
      ? html`<p class="muted">No one is signed in.</p>`
      : html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Person</th><th scope="col">Signed in with</th><th scope="col">Since (UTC)</th><th scope="col">Last seen (UTC)</th><th scope="col">From</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${sessions.map(
      (s) =>
        html`<tr><th scope="row">${s.userEmail}</th><td>${METHODS[s.method] ?? s.method}</td><td class="nowrap">${minute(s.createdAt)}</td><td class="nowrap">${minute(s.lastSeenAt)}</td><td><span class="mono small">${s.address ?? "—"}</span><br><span class="small muted nowrap" title="${s.userAgent ?? ""}">${browserLabel(s.userAgent)}</span></td><td class="nowrap">${endForm(csrfToken, "session", s.id, html`End<span class="visually-hidden"> this session of ${s.userEmail}</span>`)} ${endForm(csrfToken, "user", s.userEmail, html`End all<span class="visually-hidden"> sessions of ${s.userEmail}</span>`)}</td></tr>`,
    )}</tbody>
  </table></div>`
  }
</section>`;
}
