import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request } from "express";
import { type CookieSecurity, isSecureCookie } from "./request-origin.js";
import { SESSION_MAX_AGE_SECONDS, type SessionUser, type SignInMethod } from "./site-sessions.js";

/**
 * The site's session as a request carries it. Every visitor has one: an anonymous one from
 * their first page (so even the sign-in form is CSRF-protected), lived in the cookie alone;
 * signing in replaces it with one stored on the server (`SiteSessions`), whose token the
 * cookie carries. A new id on sign-in means a session id planted before it is worthless after.
 */
export interface SiteSession {
  /** Random id (for a signed-in session, the stored session's token); CSRF tokens are an HMAC of it. */
  sid: string;
  /** Seconds since the epoch when the cookie was issued. */
  iat: number;
  /** Signed in: the stored session behind `sid`. */
  stored?: { id: string; method: SignInMethod } | undefined;
  /** Signed in: the person, read from the store on every request (never from the cookie). */
  user?: SessionUser | undefined;
}

/** What the cookie says, signed: the id, when it was issued, whether the server holds it. */
export interface SessionCookie {
  sid: string;
  iat: number;
  stored: boolean;
}

export const SESSION_COOKIE = "switchboard_session";

const b64 = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export class SessionCookies {
  private readonly key: Buffer;

  /** `secret`: SESSION_SECRET, or random per process (sessions then end on restart). */
  constructor(
    secret: string | undefined,
    private readonly security: CookieSecurity,
  ) {
    this.key = secret ? Buffer.from(secret) : randomBytes(32);
  }

  /** A visitor's session before they sign in. */
  anonymous(): SiteSession {
    return { sid: randomBytes(18).toString("base64url"), iat: Math.floor(Date.now() / 1000) };
  }

  /** The session cookie in a Cookie header, or undefined when absent, tampered with or expired. */
  read(cookieHeader: string | undefined): SessionCookie | undefined {
    const value = parseCookies(cookieHeader)[SESSION_COOKIE];
    if (!value) return undefined;
    const [payload, signature] = value.split(".");
    if (!payload || !signature || !this.matches(this.sign(`session:${payload}`), signature)) {
      return undefined;
    }
    try {
      const cookie = JSON.parse(Buffer.from(payload, "base64url").toString()) as SessionCookie;
      if (typeof cookie.sid !== "string" || typeof cookie.iat !== "number") return undefined;
      if (Date.now() / 1000 - cookie.iat > SESSION_MAX_AGE_SECONDS) return undefined;
      return { sid: cookie.sid, iat: cookie.iat, stored: cookie.stored === true };
    } catch {
      return undefined;
    }
  }

  /** The Set-Cookie header value for a session, answering `req`. */
  serialize(session: SiteSession, req?: Request): string {
    const cookie: SessionCookie = { sid: session.sid, iat: session.iat, stored: !!session.stored };
    const payload = b64(JSON.stringify(cookie));
    const value = `${payload}.${this.sign(`session:${payload}`)}`;
    return [
      `${SESSION_COOKIE}=${value}`,
      "Path=/",
      "HttpOnly",
      "SameSite=Lax",
      `Max-Age=${SESSION_MAX_AGE_SECONDS}`,
      ...(isSecureCookie(this.security, req) ? ["Secure"] : []),
    ].join("; ");
  }

  /** Whether `req` reached the site over TLS (or PUBLIC_URL is https): cookies are Secure, HSTS is sent. */
  overTls(req: Request): boolean {
    return isSecureCookie(this.security, req);
  }

  /** The CSRF token for a session: sent back in a form field or the x-csrf-token header. */
  csrfToken(session: Pick<SiteSession, "sid">): string {
    return this.sign(`csrf:${session.sid}`);
  }

  csrfValid(session: Pick<SiteSession, "sid">, token: unknown): boolean {
    return typeof token === "string" && this.matches(this.csrfToken(session), token);
  }

  private sign(text: string): string {
    return createHmac("sha256", this.key).update(text).digest("base64url");
  }

  private matches(expected: string, given: string): boolean {
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    if (name && !(name in cookies)) cookies[name] = part.slice(at + 1).trim();
  }
  return cookies;
}
