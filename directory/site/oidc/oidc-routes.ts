import { type RequestHandler, type Response, Router } from "express";
import { localPath } from "../form-values.js";
import { type OidcGroupSync, type SiteAuth, startSession } from "../site-auth.js";
import type { FlowCookies } from "./flow-cookie.js";
import { oidcPerson } from "./oidc-person.js";
import { OidcRefusal, type OidcSignIn } from "./oidc-sign-in.js";

export const OIDC_START_PATH = "/auth/oidc";
export const OIDC_CALLBACK_PATH = "/auth/callback";

export interface OidcRoutesOptions {
  auth: SiteAuth;
  oidc: OidcSignIn;
  flows: FlowCookies;
  /** With OIDC_GROUPS_CLAIM: keeps the person's OIDC team memberships in step at each sign-in. */
  syncGroups?: OidcGroupSync | undefined;
  /** The site's session middleware (cookie, CSRF), so refusals render in the site's frame. */
  session: RequestHandler[];
  /** Shows the sign-in page with a message, e.g. why this sign-in was refused. */
  refuse: (res: Response, next: string, message: string, status: number) => Promise<void>;
}

/**
 * GET /auth/oidc sends the browser to the issuer with a new flow in its cookie; GET
 * /auth/callback finishes that flow and signs the person in as the user with the email the
 * issuer vouches for (created on first sign-in, and linked to the issuer's subject).
 */
export function oidcRoutes(options: OidcRoutesOptions): Router {
  const { auth, oidc, flows, session, refuse, syncGroups } = options;
  const router = Router();

  router.get(OIDC_START_PATH, ...session, async (req, res) => {
    const next = localPath(req.query.next);
    const problem = await oidc.problem();
    if (problem) return refuse(res, next, problem, 503);
    const { url, flow } = await oidc.begin(next);
    res.append("set-cookie", flows.serialize(flow, req));
    res.set("cache-control", "no-store").redirect(303, url.href);
  });

  router.get(OIDC_CALLBACK_PATH, ...session, async (req, res) => {
    const flow = flows.read(req.headers.cookie);
    // Used once, whatever happens next: a replayed callback finds no flow.
    res.append("set-cookie", flows.clear(req));
    if (!flow) {
      return refuse(
        res,
        "/",
        "This sign-in was not started in this browser, or it took longer than 10 minutes, so it was refused. Start again.",
        400,
      );
    }
    const query = new URL(req.originalUrl, "http://callback.invalid").searchParams;
    let identity: Awaited<ReturnType<OidcSignIn["complete"]>>;
    try {
      identity = await oidc.complete(query, flow);
    } catch (error) {
      if (error instanceof OidcRefusal) return refuse(res, flow.next, error.message, error.status);
      throw error;
    }
    let user: Awaited<ReturnType<typeof oidcPerson>>;
    try {
      user = await oidcPerson(auth.users, identity, { signIn: true, issuerName: oidc.name });
    } catch (error) {
      if (error instanceof OidcRefusal) return refuse(res, "/", error.message, error.status);
      throw error;
    }
    if (syncGroups && identity.groups) await syncGroups(user, identity.groups);
    // Only the signed-in session goes out (not the anonymous one this request may have been given).
    res.removeHeader("set-cookie");
    res.append("set-cookie", flows.clear(req));
    await startSession(req, res, auth, user, "oidc");
    res.redirect(303, flow.next);
  });

  return router;
}
