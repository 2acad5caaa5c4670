import type { Request, RequestHandler, Response } from "express";
import { normalizeEmail, type UserDirectory, type UserPrincipal } from "../../authz/index.js";
import { SwitchboardError } from "../../core/index.js";
import type { AuthStrategy } from "../api/authenticate.js";
import type { FlowCookies, OidcSignIn } from "./oidc/index.js";
import { clientAddress, peerAddress } from "./request-origin.js";
import type { SessionCookies, SiteSession } from "./session-cookie.js";
import type { SessionUser, SignInMethod, SiteSessions } from "./site-sessions.js";

/** How people sign in to the site; any mix of these may be on at once, except the first. */
export interface SignInModes {
  /**
   * A form that takes any email: only on the embedded default bound to loopback, and never
   * beside another way in (see `serve`'s `signInModes`). Each request to it must also be
   * addressed to, and for a post come from, a loopback address at the server's port.
   */
  development: boolean;
  /** A header set by an SSO proxy, believed only when the request comes from one of `proxies`. */
  trustedHeader?: { header: string; proxies: readonly string[] } | undefined;
  /** "Sign in with <issuer>": the OIDC authorization code flow (OIDC_* settings). */
  oidc?:
    | {
        signIn: OidcSignIn;
        flows: FlowCookies;
        /** With OIDC_GROUPS_CLAIM: makes the person's OIDC team memberships these groups. */
        syncGroups?: OidcGroupSync | undefined;
      }
    | undefined;
}

/** Called at each OIDC sign-in with the person and their groups claim. */
export type OidcGroupSync = (
  person: { id: string; email: string },
  groups: readonly string[],
) => Promise<void>;

export interface SiteAuth {
  cookies: SessionCookies;
  sessions: SiteSessions;
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

export function principalFor(user: SessionUser): UserPrincipal {
  return {
    kind: "user",
    userId: user.id,
    email: user.email,
    displayName: user.displayName,
    via: "site",
  };
}

/** The email a trusted proxy vouches for on this request, if the request came from one. */
function vouchedEmail(auth: SiteAuth, req: Request): string | undefined {
  const trusted = auth.modes.trustedHeader;
  if (!trusted?.proxies.includes(peerAddress(req))) return undefined;
  const value = req.headers[trusted.header];
  if (typeof value !== "string" || value.trim() === "") return undefined;
  try {
    return normalizeEmail(value);
  } catch {
    return undefined;
  }
}

/**
 * The session a request's cookie names, checked on every request: a signed-in one must still
 * be stored (not signed out, revoked or expired), and one the trusted header made must still
 * be vouched for by the header, from a trusted proxy, for the same person. A session that
 * fails the header check is ended, not just skipped. Undefined: no usable session.
 */
async function currentSession(auth: SiteAuth, req: Request): Promise<SiteSession | undefined> {
  const cookie = auth.cookies.read(req.headers.cookie);
  if (!cookie?.stored) return cookie && { sid: cookie.sid, iat: cookie.iat };
  const live = await auth.sessions.find(cookie.sid);
  if (!live) return undefined;
  if (live.method === "trusted_header" && vouchedEmail(auth, req) !== live.user.email) {
    await auth.sessions.end(cookie.sid);
    return undefined;
  }
  return {
    sid: cookie.sid,
    iat: cookie.iat,
    stored: { id: live.id, method: live.method },
    user: live.user,
  };
}

export function setSession(req: Request, res: Response, auth: SiteAuth, session: SiteSession) {
  res.locals.session = session;
  res.append("set-cookie", auth.cookies.serialize(session, req));
}

export function sessionOf(res: Response): SiteSession {
  return res.locals.session as SiteSession;
}

/** Signs a person in: a new stored session (and id) in place of whatever the browser had. */
export async function startSession(
  req: Request,
  res: Response,
  auth: SiteAuth,
  person: { id: string; email: string; displayName?: string | null | undefined },
  method: SignInMethod,
): Promise<void> {
  const user: SessionUser = {
    id: person.id,
    email: person.email,
    displayName: person.displayName ?? undefined,
  };
  await endSession(res, auth);
  const { token, id } = await auth.sessions.start({
    userId: user.id,
    method,
    userAgent: req.headers["user-agent"],
    address: clientAddress(req, auth.modes.trustedHeader?.proxies ?? []),
  });
  const session: SiteSession = {
    sid: token,
    iat: Math.floor(Date.now() / 1000),
    stored: { id, method },
    user,
  };
  setSession(req, res, auth, session);
  res.locals.principal = principalFor(user);
}

/** Ends the request's stored session on the server, if it has one; the cookie is the caller's to replace. */
export async function endSession(res: Response, auth: SiteAuth): Promise<void> {
  const session = res.locals.session as SiteSession | undefined;
  if (session?.stored) await auth.sessions.end(session.sid);
  res.locals.principal = undefined;
}

/**
 * Every site request: finds the session (issuing an anonymous one when there is none), signs
 * the person in from the trusted header when a trusted proxy vouches for someone else than
 * the session's person, and refuses unsafe methods without the session's CSRF token. Leaves
 * `res.locals.principal` set when signed in.
 */
/** A year: the usual value, long enough to matter and not forever. */
const HSTS = "max-age=31536000";

export function siteSession(auth: SiteAuth): RequestHandler {
  return async (req, res, next) => {
    // Browsers heed HSTS only over https, and a site reached over TLS should stay there: a
    // later http:// link or typed address would send the session cookie's holder in clear.
    if (auth.cookies.overTls(req)) res.set("strict-transport-security", HSTS);
    const session = await currentSession(auth, req);
    res.locals.session = session;
    if (session?.user) res.locals.principal = principalFor(session.user);
    const vouched = vouchedEmail(auth, req);
    if (vouched && session?.user?.email !== vouched) {
      const user = await auth.users.ensureUser(vouched);
      await startSession(req, res, auth, user, "trusted_header");
    } else if (!session) {
      setSession(req, res, auth, auth.cookies.anonymous());
    }
    if (!SAFE_METHODS.has(req.method)) {
      const token = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      if (!auth.cookies.csrfValid(sessionOf(res), token ?? req.headers[CSRF_HEADER])) {
        throw csrfRefused();
      }
    }
    next();
  };
}

/**
 * The session cookie as a REST API credential, so the site's own scripts can call /api/v1,
 * held to the same checks as a page. Unsafe methods must echo the CSRF token in the
 * x-csrf-token header.
 */
export function sessionCookieStrategy(auth: SiteAuth): AuthStrategy {
  return async (req) => {
    const session = await currentSession(auth, req);
    if (!session?.user) return undefined;
    // A trusted proxy naming someone else: this cookie is not theirs.
    const vouched = vouchedEmail(auth, req);
    if (vouched && vouched !== session.user.email) return undefined;
    if (
      !SAFE_METHODS.has(req.method) &&
      !auth.cookies.csrfValid(session, req.headers[CSRF_HEADER])
    ) {
      throw csrfRefused();
    }
    return principalFor(session.user);
  };
}
