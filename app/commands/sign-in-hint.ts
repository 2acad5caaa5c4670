import type { SignInModes } from "../../directory/index.js";
import type { Config } from "../config/index.js";

/** What `serve` logs once it is up: how a person signs in here, or that nobody can yet. */
export interface SignInHint {
  level: "info" | "warn";
  message: string;
  fields: Record<string, unknown>;
}

/**
 * The first thing someone who has just started Switchboard (a `docker compose up`, a Helm
 * release) wants to know is how to get in; this says it in the log, from the modes that are
 * actually on, never from what the operator may have meant to set. Secrets are left out:
 * the client secret and session secret are never named with their values.
 */
export function signInHint(config: Config, modes: SignInModes, serverUrl: string): SignInHint {
  const site = (config.PUBLIC_URL ?? serverUrl).replace(/\/+$/, "");
  const ways: string[] = [];
  const fields: Record<string, unknown> = { url: `${site}/sign-in` };
  if (modes.oidc) {
    fields.oidcIssuer = config.OIDC_ISSUER_URL;
    fields.oidcClientId = config.OIDC_CLIENT_ID;
    ways.push(
      `with "Sign in with ${modes.oidc.signIn.name}" (OIDC issuer ${config.OIDC_ISSUER_URL}, client ${config.OIDC_CLIENT_ID}; register ${site}/auth/callback there as its redirect URI)`,
    );
  }
  if (modes.trustedHeader) {
    fields.trustedHeader = modes.trustedHeader.header;
    ways.push(
      `through the SSO proxy in front of it, which names the person in the ${modes.trustedHeader.header} header (believed only from ${modes.trustedHeader.proxies.join(", ") || "no address: set AUTH_TRUSTED_PROXIES"})`,
    );
  }
  if (modes.development) {
    ways.push("with any email address (the development sign-in: embedded database, loopback only)");
  }
  if (ways.length === 0) {
    return {
      level: "warn",
      message: `Nobody can sign in to the site at ${site}: set OIDC_ISSUER_URL, OIDC_CLIENT_ID and PUBLIC_URL (or AUTH_TRUSTED_HEADER behind an SSO proxy). API keys (switchboard keys create) still work.`,
      fields,
    };
  }
  return { level: "info", message: `Sign in at ${site}/sign-in ${ways.join("; or ")}`, fields };
}
