import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The site's session, carried whole in one signed cookie (no session table): an id that
 * CSRF tokens are tied to, and the person once they have signed in. A visitor gets an
 * anonymous session on their first page, so even the sign-in form is CSRF-protected; signing
 * in issues a new id, so a session id planted before sign-in is worth nothing after it.
 */
export interface SiteSession {
  /** Random id; CSRF tokens are an HMAC of it. */
  sid: string;
  user?: { id: string; email: string; displayName?: string | undefined } | undefined;
  /** Seconds since the epoch when it was issued. */
  iat: number;
}

export const SESSION_COOKIE = "switchboard_session";
/** Signed-in sessions last a working week; the cookie is re-issued on sign-in only. */
export const SESSION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;

const b64 = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export class SessionCookies {
  private readonly key: Buffer;

  /** `secret`: SESSION_SECRET, or random per process (sessions then end on restart). */
  constructor(
    secret: string | undefined,
    private readonly secure: boolean,
  ) {
    this.key = secret ? Buffer.from(secret) : randomBytes(32);
  }

  create(user?: SiteSession["user"]): SiteSession {
    return { sid: randomBytes(18).toString("base64url"), user, iat: Math.floor(Date.now() / 1000) };
  }

  /** The session in a Cookie header, or undefined when absent, tampered with or expired. */
  read(cookieHeader: string | undefined): SiteSession | undefined {
    const value = parseCookies(cookieHeader)[SESSION_COOKIE];
    if (!value) return undefined;
    const [payload, signature] = value.split(".");
    if (!payload || !signature || !this.matches(this.sign(`session:${payload}`), signature)) {
      return undefined;
    }
    try {
      const session = JSON.parse(Buffer.from(payload, "base64url").toString()) as SiteSession;
      if (typeof session.sid !== "string" || typeof session.iat !== "number") return undefined;
      if (Date.now() / 1000 - session.iat > SESSION_MAX_AGE_SECONDS) return undefined;
      return session;
    } catch {
      return undefined;
    }
  }

  /** The Set-Cookie header value for a session. */
  serialize(session: SiteSession): string {
    const payload = b64(JSON.stringify(session));
    const value = `${payload}.${this.sign(`session:${payload}`)}`;
    return [
      `${SESSION_COOKIE}=${value}`,
      "Path=/",
      "HttpOnly",
      "SameSite=Lax",
      `Max-Age=${SESSION_MAX_AGE_SECONDS}`,
      ...(this.secure ? ["Secure"] : []),
    ].join("; ");
  }

  /** The CSRF token for a session: sent back in a form field or the x-csrf-token header. */
  csrfToken(session: SiteSession): string {
    return this.sign(`csrf:${session.sid}`);
  }

  csrfValid(session: SiteSession, token: unknown): boolean {
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
