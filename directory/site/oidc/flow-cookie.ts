import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request } from "express";
import { type CookieSecurity, isSecureCookie } from "../request-origin.js";
import { parseCookies } from "../session-cookie.js";

/**
 * What one sign-in with the OIDC issuer must remember between sending the browser away and
 * its return to /auth/callback: the state and nonce to compare, the PKCE verifier to prove
 * the code is ours, and where to land afterwards. It lives in the browser, not on the
 * server, so any web process can finish a sign-in another one started.
 */
export interface SignInFlow {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  /** Seconds since the epoch after which the flow is refused. */
  exp: number;
}

export const FLOW_COOKIE = "switchboard_oidc";
/** Long enough to type a password and pass a second factor, short enough to be worthless later. */
export const FLOW_MAX_AGE_SECONDS = 10 * 60;
/** Sent only to /auth/*, so the cookie rides along with no other request. */
const FLOW_PATH = "/auth";

/** Signs and reads the flow cookie with its own key, derived from the session secret. */
export class FlowCookies {
  private readonly key: Buffer;

  constructor(
    secret: string | undefined,
    private readonly security: CookieSecurity,
  ) {
    // A key of its own: a flow cookie can never pass for a session cookie, nor the reverse.
    this.key = createHmac("sha256", secret ?? randomBytes(32))
      .update("switchboard oidc flow")
      .digest();
  }

  /** The Set-Cookie value that starts a flow. SameSite=Lax: the issuer's redirect back is a top-level GET. */
  serialize(flow: SignInFlow, req?: Request): string {
    const payload = Buffer.from(JSON.stringify(flow)).toString("base64url");
    return this.cookie(`${payload}.${this.sign(payload)}`, FLOW_MAX_AGE_SECONDS, req);
  }

  /** The Set-Cookie value that ends a flow, whatever its outcome: a flow is used once. */
  clear(req?: Request): string {
    return this.cookie("", 0, req);
  }

  /** The flow in a Cookie header, or undefined when absent, tampered with or expired. */
  read(cookieHeader: string | undefined): SignInFlow | undefined {
    const value = parseCookies(cookieHeader)[FLOW_COOKIE];
    const [payload, signature] = (value ?? "").split(".");
    if (!payload || !signature) return undefined;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const flow = JSON.parse(Buffer.from(payload, "base64url").toString()) as SignInFlow;
      const fields = [flow.state, flow.nonce, flow.verifier, flow.next];
      if (!fields.every((field) => typeof field === "string")) return undefined;
      if (typeof flow.exp !== "number" || flow.exp < Date.now() / 1000) return undefined;
      return flow;
    } catch {
      return undefined;
    }
  }

  private cookie(value: string, maxAge: number, req: Request | undefined): string {
    return [
      `${FLOW_COOKIE}=${value}`,
      `Path=${FLOW_PATH}`,
      "HttpOnly",
      "SameSite=Lax",
      `Max-Age=${maxAge}`,
      ...(isSecureCookie(this.security, req) ? ["Secure"] : []),
    ].join("; ");
  }

  private sign(payload: string): string {
    return createHmac("sha256", this.key).update(payload).digest("base64url");
  }
}
