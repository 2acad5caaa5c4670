import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";

export interface SignInPageOptions {
  development: boolean;
  trustedHeader: boolean;
  /** Sign-in with an OIDC issuer: its name, and why it cannot start right now, if it cannot. */
  oidc?: { name: string; problem?: string | undefined } | undefined;
  csrfToken: string;
  next: string;
  error?: string | undefined;
}

function oidcButton(oidc: NonNullable<SignInPageOptions["oidc"]>, next: string): Html {
  // A link, not a form: starting a sign-in changes nothing here, and the redirect to the
  // issuer is then a navigation, which the site's CSP form-action 'self' does not cover.
  return html`${oidc.problem && html`<p class="notice notice-suspended" role="status">${oidc.problem}</p>`}
  <p><a class="button button-wide" href="/auth/oidc?next=${encodeURIComponent(next)}">Sign in with ${oidc.name}</a></p>`;
}

function developmentForm(options: SignInPageOptions): Html {
  return html`<p class="muted">Development sign-in: this server runs on the embedded database on this machine only, so any email is accepted. Never use it for a shared deployment.</p>
  <form method="post" action="/sign-in">
    <input type="hidden" name="${CSRF_FIELD}" value="${options.csrfToken}">
    <input type="hidden" name="next" value="${options.next}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" required placeholder="you@example.com">
    <button type="submit" class="button button-wide">Sign in</button>
  </form>`;
}

/** The sign-in page: each sign-in this server offers, or how sign-in works here when it offers none. */
export function signInPage(options: SignInPageOptions): Html {
  const { oidc } = options;
  const offered = options.development || oidc !== undefined;
  return html`<div class="sign-in card">
  <h1>Sign in to Switchboard</h1>
  ${options.error && html`<p class="notice notice-error" role="alert">${options.error}</p>`}
  ${oidc && oidcButton(oidc, options.next)}
  ${options.development && developmentForm(options)}
  ${
    offered
      ? ""
      : options.trustedHeader
        ? html`<p>Sign in through your company's single sign-on, then open Switchboard again.</p>`
        : html`<p>No sign-in method is configured on this server. An administrator sets <span class="mono">OIDC_ISSUER_URL</span> (with <span class="mono">OIDC_CLIENT_ID</span>) to sign people in with the company's identity provider, or <span class="mono">AUTH_TRUSTED_HEADER</span> and <span class="mono">AUTH_TRUSTED_PROXIES</span> behind an SSO proxy. Meanwhile the REST API takes API keys.</p>`
  }
</div>`;
}
