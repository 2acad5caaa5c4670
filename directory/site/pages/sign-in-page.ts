import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";

/** The sign-in page: the development form where it is allowed, else how sign-in works here. */
export function signInPage(options: {
  development: boolean;
  trustedHeader: boolean;
  csrfToken: string;
  next: string;
  error?: string | undefined;
}): Html {
  return html`<div class="sign-in card">
  <h1>Sign in to Switchboard</h1>
  ${options.error && html`<p class="notice notice-error" role="alert">${options.error}</p>`}
  ${
    options.development
      ? html`<p class="muted">Development sign-in: this server runs on the embedded database on this machine only, so any email is accepted. Never use it for a shared deployment.</p>
  <form method="post" action="/sign-in">
    <input type="hidden" name="${CSRF_FIELD}" value="${options.csrfToken}">
    <input type="hidden" name="next" value="${options.next}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" required placeholder="you@example.com">
    <button type="submit" class="button button-wide">Sign in</button>
  </form>`
      : options.trustedHeader
        ? html`<p>Sign in through your company's single sign-on, then open Switchboard again.</p>`
        : html`<p>No sign-in method is configured on this server. An administrator sets <span class="mono">AUTH_TRUSTED_HEADER</span> and <span class="mono">AUTH_TRUSTED_PROXIES</span> to sign people in through an SSO proxy. Meanwhile the REST API takes API keys.</p>`
  }
</div>`;
}
