import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { UserDirectory, UserPrincipal } from "../../../authz/index.js";
import { forbidden, SwitchboardError, unauthenticated } from "../../../core/index.js";
import type { AuthStrategy } from "../../api/authenticate.js";
import { issuerName } from "./issuer-name.js";
import { emailClaim, oidcPerson } from "./oidc-person.js";
import { OidcRefusal } from "./oidc-refusal.js";

export interface OidcBearerSettings {
  /** OIDC_ISSUER_URL: tokens must name it (as its discovery document spells it) in `iss`. */
  issuer: URL;
  /**
   * What a token's `aud` must include one of: the site's client id (ID tokens, and access
   * tokens issued to the site's client) and this Switchboard's resource URLs (PUBLIC_URL and
   * PUBLIC_URL/mcp, what MCP clients ask the issuer for).
   */
  audiences: readonly string[];
  users: UserDirectory;
  /** A token refused: the cause, for the operator's log (the caller sees only the words). */
  onRefusal?: (message: string, cause: unknown) => void;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** A JWS in compact form: three base64url segments (the last empty for `alg: none`). */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Clocks at the issuer and here may differ a little. */
const CLOCK_TOLERANCE_SECONDS = 30;
const ISSUER_TIMEOUT_MS = 5_000;

interface IssuerKeys {
  issuer: string;
  keys: JWTVerifyGetKey;
}

/**
 * The site's OIDC issuer's tokens (JWT access tokens or ID tokens) as a bearer credential for
 * /api/v1, /a2a and /mcp. It answers only for a bearer value shaped like a JWT, so an API key
 * is never sent to the issuer's keys and a JWT never looked up as a key: put it before
 * `bearerApiKey`. The token's signature is checked against the issuer's JWKS (from its
 * discovery document, fetched once), its issuer, audience and lifetime too; its email claim
 * names the person, found as the site's sign-in finds them (but never created).
 */
export function bearerOidcToken(settings: OidcBearerSettings): AuthStrategy {
  const name = issuerName(settings.issuer);
  let discovered: Promise<IssuerKeys> | undefined;
  const issuerKeys = () => {
    // Fetched once; an issuer that could not be reached is asked again on the next token.
    discovered ??= discover(settings.issuer).catch((error) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  };
  const refuse = (message: string, cause?: unknown) => {
    settings.onRefusal?.(message, cause);
    return unauthenticated(message);
  };

  return async (req) => {
    const token = BEARER.exec(req.headers.authorization ?? "")?.[1];
    if (!token || !JWT.test(token)) return undefined;
    let keys: IssuerKeys;
    try {
      keys = await issuerKeys();
    } catch (error) {
      // The issuer is down, not the token bad: a client should retry, not drop its token.
      const message = `The token could not be checked: ${name} could not be reached for its signing keys. Try again in a minute, or use an API key.`;
      settings.onRefusal?.(message, error);
      throw new SwitchboardError("issuer_unavailable", message, { status: 503 });
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.keys, {
        issuer: keys.issuer,
        audience: [...settings.audiences],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        // No list of our own: the algorithm must fit the issuer's key (its JWK's `alg` where
        // given, else its key type), and `none` never does.
      }));
    } catch (error) {
      throw refuse(refusalOf(error, name, settings.audiences), error);
    }
    let person: Awaited<ReturnType<typeof oidcPerson>>;
    try {
      const claims = emailClaim(name, payload as Record<string, unknown>);
      person = await oidcPerson(
        settings.users,
        { issuer: keys.issuer, subject: String(payload.sub ?? ""), ...claims },
        { signIn: false, issuerName: name },
      );
    } catch (error) {
      if (!(error instanceof OidcRefusal)) throw error;
      settings.onRefusal?.(error.message, error);
      throw error.status === 401 ? unauthenticated(error.message) : forbidden(error.message);
    }
    const principal: UserPrincipal = {
      kind: "user",
      userId: person.id,
      email: person.email,
      displayName: person.displayName ?? undefined,
      via: "api",
    };
    return principal;
  };
}

/** The issuer's JWKS and its identifier, from its discovery document. */
async function discover(issuer: URL): Promise<IssuerKeys> {
  const base = issuer.href.replace(/\/+$/, "");
  const response = await fetch(`${base}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(ISSUER_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`discovery answered ${response.status}`);
  const document = (await response.json()) as {
    issuer?: unknown;
    jwks_uri?: unknown;
  };
  // The issuer must call itself what we were told to trust (RFC 8414 §3.3), up to a trailing slash.
  if (typeof document.issuer !== "string" || document.issuer.replace(/\/+$/, "") !== base) {
    throw new Error(`discovery names another issuer (${String(document.issuer)})`);
  }
  if (typeof document.jwks_uri !== "string") throw new Error("discovery names no jwks_uri");
  return {
    issuer: document.issuer,
    keys: createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: ISSUER_TIMEOUT_MS }),
  };
}

/** Why jose refused the token, in words for the caller. */
function refusalOf(error: unknown, name: string, audiences: readonly string[]): string {
  if (error instanceof errors.JWTExpired) {
    return `The token from ${name} has expired. Get a new one and try again.`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return `The token was not issued by ${name}, so it was refused.`;
    if (error.claim === "aud") {
      return `The token was not issued for Switchboard (its audience must include ${audiences.join(" or ")}), so it was refused.`;
    }
    if (error.claim === "nbf") return "The token is not valid yet, so it was refused.";
    return `The token's "${error.claim}" claim is not valid, so it was refused.`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return "The token is not signed with an algorithm the issuer uses, so it was refused.";
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return `The token's signature is not ${name}'s, so it was refused.`;
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return `The token could not be checked: ${name}'s signing keys could not be read. Try again in a minute, or use an API key.`;
  }
  return "The bearer token is not a valid JWT, so it was refused. Send a JWT from the issuer or an API key.";
}
