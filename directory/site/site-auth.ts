import type { Request, RequestHandler, Response } from "express";
import { normalizeEmail, type UserDirectory, type UserPrincipal } from "../../authz/index.js";
import { SwitchboardError } from "../../core/index.js";
import type { AuthStrategy } from "../api/authenticate.js";
import type { FlowCookies, OidcSignIn } from "./oidc/index.js";
import type { SessionCookies, SiteSession } from "./session-cookie.js";

/** How people sign in to the site; any mix of these may be on at once. */
export interface SignInModes {
  /** A form that takes any email: only on the embedded default bound to loopback. */
  development: boolean;
  /** A header set by an SSO proxy, believed only when the request comes from one of `proxies`. */
  trustedHeader?: { header: string; proxies: readonly string[] } | undefined;
  /** "Sign in with <issuer>": the OIDC authorization code flow (OIDC_* settings). */
  oidc?: { signIn: OidcSignIn; flows: FlowCookies } | undefined;
}

export interface SiteAuth {
  cookies: SessionCookies;
  users: UserDirectory;
  modes: SignInModes;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
export const CSRF_HEADER = "x-csrf-token";
export const CSRF_FIELD = "_csrf";

export function csrfRefused(): SwitchboardError {
  return new SwitchboardError(
    "csrf_failed",
    "This request did not carry the page's security token, so it was refused. Reload the page and try again.",
    { status: 403 },
  );
}

export function principalFor(user: NonNullable<SiteSession["user"]>): UserPrincipal {
  return {
    kind: "user",
    userId: user.id,
    email: user.email,
    displayName: user.displayName,
    via: "site",
  };
}

/** The peer's address as the socket saw it, without the IPv4-mapped IPv6 prefix. */
export function peerAddress(req: Request): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

export function setSession(res: Response, auth: SiteAuth, session: SiteSession): void {
  res.locals.session = session;
  res.append("set-cookie", auth.cookies.serialize(session));
}

export function sessionOf(res: Response): SiteSession {
  return res.locals.session as SiteSession;
}

/**
 * Every site request: finds the session (issuing an anonymous one on first sight), signs the
 * person in from the trusted header when it comes from a trusted proxy, and refuses unsafe
 * methods without the session's CSRF token. Leaves `res.locals.principal` set when signed in.
 */
export function siteSession(auth: SiteAuth): RequestHandler {
  const trusted = auth.modes.trustedHeader;
  return async (req, res, next) => {
    let session = auth.cookies.read(req.headers.cookie);
    const fresh = !session;
    if (!session) session = auth.cookies.create();
    res.locals.session = session;
    if (trusted?.proxies.includes(peerAddress(req))) {
      const value = req.headers[trusted.header];
      if (typeof value === "string" && value.trim() !== "") {
        const email = normalizeEmail(value);
        if (session.user?.email !== email) {
          const user = await auth.users.ensureUser(email);
          session = auth.cookies.create({ id: user.id, email: user.email });
          setSession(res, auth, session);
        }
      }
    }
    if (fresh && !res.getHeader("set-cookie")) setSession(res, auth, session);
    if (session.user) res.locals.principal = principalFor(session.user);
    if (!SAFE_METHODS.has(req.method)) {
      const token = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      if (!auth.cookies.csrfValid(session, token ?? req.headers[CSRF_HEADER])) {
        throw csrfRefused();
      }
    }
    next();
  };
}

/**
 * The session cookie as a REST API credential, so the site's own scripts can call /api/v1.
 * Unsafe methods must echo the CSRF token in the x-csrf-token header.
 */
export function sessionCookieStrategy(cookies: SessionCookies): AuthStrategy {
  return async (req) => {
    const session = cookies.read(req.headers.cookie);
    if (!session?.user) return undefined;
    if (!SAFE_METHODS.has(req.method) && !cookies.csrfValid(session, req.headers[CSRF_HEADER])) {
      throw csrfRefused();
    }
    return principalFor(session.user);
  };
}
