import * as client from "openid-client";
import { FLOW_MAX_AGE_SECONDS, type SignInFlow } from "./flow-cookie.js";
import { issuerName } from "./issuer-name.js";
import { emailClaim } from "./oidc-person.js";
import { OidcRefusal } from "./oidc-refusal.js";

export { OidcRefusal };

/** How the site reaches its OIDC issuer (OIDC_* settings and PUBLIC_URL). */
export interface OidcSettings {
  issuer: URL;
  clientId: string;
  /** Unset: a public client, proven by PKCE alone. */
  clientSecret?: string | undefined;
  scopes: string;
  /** PUBLIC_URL + /auth/callback, registered at the issuer. */
  redirectUri: URL;
  /** A claim listing the person's groups (OIDC_GROUPS_CLAIM); unset: groups are not read. */
  groupsClaim?: string | undefined;
}

/** Who the issuer says signed in. */
export interface OidcIdentity {
  /** The issuer identifier from its discovery document: the identity's tenant. */
  issuer: string;
  subject: string;
  email: string;
  name?: string | undefined;
  /** The groups claim's values; undefined when it is not configured or the issuer left it out. */
  groups?: string[] | undefined;
}

export interface OidcHooks {
  /** Discovery failed (the issuer is down or misconfigured); it is tried again when next needed. */
  onDiscoveryError?: (error: unknown) => void;
  /** A sign-in was refused: the cause, for the operator's log (the person sees only the message). */
  onRefusal?: (refusal: OidcRefusal) => void;
}

/** Discovery and every later call to the issuer give up after this long, so a hung issuer cannot hang a page. */
const ISSUER_TIMEOUT_SECONDS = 5;

/**
 * Sign-in with an OpenID Connect issuer: the authorization code flow with PKCE, state and
 * nonce, through `openid-client`. The issuer's discovery document is fetched once; when the
 * issuer cannot be reached it is fetched again the next time someone tries to sign in, so a
 * server started while the issuer was down recovers by itself.
 */
export class OidcSignIn {
  /** What the sign-in button names, e.g. "Google" or "login.example.com". */
  readonly name: string;
  private config: client.Configuration | undefined;
  private discovering: Promise<client.Configuration> | undefined;

  constructor(
    private readonly settings: OidcSettings,
    private readonly hooks: OidcHooks = {},
  ) {
    this.name = issuerName(settings.issuer);
  }

  /** Undefined when sign-in can start; else why not, in words for the sign-in page. */
  async problem(): Promise<string | undefined> {
    try {
      await this.configuration();
      return undefined;
    } catch (error) {
      return `Sign-in with ${this.name} is unavailable right now: ${this.settings.issuer.origin} could not be reached (${describe(error)}). Try again in a minute; if it persists, tell your administrator.`;
    }
  }

  /** Where to send the browser, and the flow to keep in its cookie until it returns. */
  async begin(next: string): Promise<{ url: URL; flow: SignInFlow }> {
    const config = await this.configuration();
    const flow: SignInFlow = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      next,
      exp: Math.floor(Date.now() / 1000) + FLOW_MAX_AGE_SECONDS,
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri.href,
      scope: this.settings.scopes,
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: "S256",
    });
    return { url, flow };
  }

  /**
   * Finishes the flow the browser came back with: checks state, exchanges the code (with the
   * PKCE verifier), verifies the ID token (signature, issuer, audience, nonce) and reads the
   * person's email from it, or from UserInfo when the token leaves it out.
   */
  async complete(query: URLSearchParams, flow: SignInFlow): Promise<OidcIdentity> {
    const config = await this.configuration();
    // Checked here too, so a forged or crossed callback never reaches the issuer.
    if (query.get("state") !== flow.state && !query.has("error")) {
      throw this.refuse(
        "This sign-in answer does not belong to the sign-in this browser started, so it was refused. Start again from the sign-in page.",
        400,
      );
    }
    const callback = new URL(this.settings.redirectUri);
    callback.search = query.toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.refuse(
        this.grantFailure(error),
        error instanceof client.AuthorizationResponseError ? 403 : 400,
        error,
      );
    }
    const claims = tokens.claims();
    if (!claims) throw this.refuse(`${this.name} sent no identity token, so it was refused.`, 400);
    let profile: Record<string, unknown> = claims;
    if (typeof claims.email !== "string" && config.serverMetadata().userinfo_endpoint) {
      try {
        // Some issuers give the email only from UserInfo; the subject must match the token's.
        profile = {
          ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub)),
          ...claims,
        };
      } catch (error) {
        throw this.refuse(
          `${this.name} did not say who you are (its user information could not be read), so sign-in was refused.`,
          502,
          error,
        );
      }
    }
    const groups = this.groupsOf(profile);
    return {
      issuer: String(claims.iss),
      subject: claims.sub,
      ...this.emailOf(profile),
      ...(groups ? { groups } : {}),
    };
  }

  /**
   * The groups claim as a list of names (or ids: Entra sends group object ids). Left out by
   * the issuer (Entra's "overage" for people in very many groups), it is undefined: the
   * person's teams are then left as they were rather than emptied.
   */
  private groupsOf(profile: Record<string, unknown>): string[] | undefined {
    const claim = this.settings.groupsClaim;
    if (!claim) return undefined;
    const value = profile[claim];
    const list = typeof value === "string" ? [value] : Array.isArray(value) ? value : undefined;
    if (!list) return undefined;
    return [...new Set(list.filter((g): g is string => typeof g === "string" && g.trim() !== ""))]
      .map((g) => g.trim().slice(0, 256))
      .slice(0, 500);
  }

  private emailOf(profile: Record<string, unknown>): { email: string; name?: string } {
    try {
      return emailClaim(this.name, profile);
    } catch (error) {
      if (error instanceof OidcRefusal) this.hooks.onRefusal?.(error);
      throw error;
    }
  }

  private grantFailure(error: unknown): string {
    if (error instanceof client.AuthorizationResponseError) {
      const detail = error.error_description ? `: ${error.error_description}` : "";
      return `${this.name} did not sign you in (${error.error}${detail}).`;
    }
    if (/nonce/i.test(describeDeep(error))) {
      return `The identity token from ${this.name} was not issued for this sign-in, so it was refused. Start again from the sign-in page.`;
    }
    return `The answer from ${this.name} could not be verified, so sign-in was refused. Try again; if it persists, tell your administrator.`;
  }

  private refuse(message: string, status: number, cause?: unknown): OidcRefusal {
    const refusal = new OidcRefusal(message, status, { cause });
    this.hooks.onRefusal?.(refusal);
    return refusal;
  }

  private configuration(): Promise<client.Configuration> {
    if (this.config) return Promise.resolve(this.config);
    // One discovery at a time, however many people open the sign-in page at once.
    this.discovering ??= this.discover().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  private async discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    try {
      this.config = await client.discovery(
        issuer,
        clientId,
        clientSecret,
        clientSecret ? undefined : client.None(),
        {
          timeout: ISSUER_TIMEOUT_SECONDS,
          // An http:// issuer is the operator's explicit choice (a test double, a local Keycloak).
          execute: issuer.protocol === "http:" ? [client.allowInsecureRequests] : [],
        },
      );
      return this.config;
    } catch (error) {
      this.hooks.onDiscoveryError?.(error);
      throw error;
    }
  }
}

/** The error's own message with its causes', which say what actually failed (ECONNREFUSED, …). */
function describeDeep(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    parts.push(e.message);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") parts.push(code);
  }
  return parts.join(" ");
}

function describe(error: unknown): string {
  let innermost = error;
  while (innermost instanceof Error && innermost.cause instanceof Error)
    innermost = innermost.cause;
  const code = (innermost as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  return innermost instanceof Error ? innermost.message : String(innermost);
}
