import {
  type CookieSecurity,
  FlowCookies,
  OIDC_CALLBACK_PATH,
  type OidcSettings,
  OidcSignIn,
  type SignInModes,
} from "../../directory/index.js";
import { type Config, ConfigError } from "../config/index.js";
import type { Logger } from "../logger.js";

/**
 * The site's OIDC settings, or undefined when OIDC_ISSUER_URL is unset. Checked before the
 * server listens: a half-configured OIDC would otherwise show a sign-in button that can
 * only fail.
 */
export function oidcSettings(config: Config): OidcSettings | undefined {
  if (!config.OIDC_ISSUER_URL) return undefined;
  const problems: { variable: string; problem: string }[] = [];
  if (!config.OIDC_CLIENT_ID) {
    problems.push({
      variable: "OIDC_CLIENT_ID",
      problem: "is required with OIDC_ISSUER_URL (the site's client id at the issuer)",
    });
  }
  if (!config.PUBLIC_URL) {
    problems.push({
      variable: "PUBLIC_URL",
      problem: `is required with OIDC_ISSUER_URL: the issuer sends people back to PUBLIC_URL${OIDC_CALLBACK_PATH}`,
    });
  }
  if (!config.OIDC_SCOPES.split(/\s+/).includes("openid")) {
    problems.push({ variable: "OIDC_SCOPES", problem: 'must include "openid"' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const base = (config.PUBLIC_URL as string).replace(/\/*$/, "/");
  return {
    issuer: new URL(config.OIDC_ISSUER_URL),
    clientId: config.OIDC_CLIENT_ID as string,
    clientSecret: config.OIDC_CLIENT_SECRET,
    scopes: config.OIDC_SCOPES,
    redirectUri: new URL(OIDC_CALLBACK_PATH.slice(1), base),
    groupsClaim: config.OIDC_GROUPS_CLAIM,
  };
}

/**
 * Sign-in with the OIDC issuer, its discovery started now in the background: an issuer
 * that is down is logged and tried again when someone next signs in, never a failed start.
 */
export function siteOidc(
  settings: OidcSettings | undefined,
  config: Config,
  cookieSecurity: CookieSecurity,
  logger: Logger,
): SignInModes["oidc"] {
  if (!settings) return undefined;
  const log = logger.child({ module: "oidc" });
  const signIn = new OidcSignIn(settings, {
    onDiscoveryError: (error) =>
      log.warn(
        { err: error, issuer: settings.issuer.href },
        "the OIDC issuer could not be reached; sign-in with it waits until it answers",
      ),
    onRefusal: (refusal) => log.warn({ err: refusal.cause ?? refusal }, refusal.message),
  });
  void signIn.problem().then((problem) => {
    if (!problem) log.info({ issuer: settings.issuer.href }, "OIDC sign-in ready");
  });
  return { signIn, flows: new FlowCookies(config.SESSION_SECRET, cookieSecurity) };
}
