import type { Request, RequestHandler, Response, Router } from "express";
import { normalizeEmail } from "../../authz/index.js";
import { localPath, one } from "./form-values.js";
import type { Html } from "./html.js";
import { oidcRoutes } from "./oidc/index.js";
import { errorPage } from "./pages/error-page.js";
import type { Section } from "./pages/layout.js";
import { signInPage } from "./pages/sign-in-page.js";
import {
  isLoopbackAddress,
  isLoopbackHostHeader,
  isLoopbackOrigin,
  peerAddress,
} from "./request-origin.js";
import { endSession, type SiteAuth, sessionOf, setSession, startSession } from "./site-auth.js";

export interface SignInRoutesDeps {
  auth: SiteAuth;
  /** Body parsing and the site session (with its CSRF check on POST). */
  session: RequestHandler[];
  send(
    res: Response,
    page: { title: string; section: Section; body: Html; status?: number },
  ): Promise<void>;
}

/**
 * Why the development form refuses this request, or undefined when it may answer. The form
 * takes any email, so it answers only a browser on this machine that addressed this machine:
 * a page elsewhere whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends its own host
 * name, and a post from another site carries that site's Origin.
 */
function developmentRefusal(req: Request): string | undefined {
  const port = req.socket.localPort ?? 0;
  const address = `http://127.0.0.1:${port}/sign-in`;
  if (!isLoopbackAddress(peerAddress(req)) || !isLoopbackHostHeader(req.headers.host, port)) {
    return `The development sign-in answers only at a loopback address of this machine, such as ${address}. This request was addressed to “${req.headers.host ?? "no host"}”, so it was refused.`;
  }
  if (req.method === "POST") {
    const from = req.headers.origin ?? req.headers.referer;
    if (!isLoopbackOrigin(from, port)) {
      return `The development sign-in takes a post only from its own page at a loopback address (${address}); this one came from “${from ?? "nowhere it would say"}”, so it was refused.`;
    }
  }
  return undefined;
}

/**
 * GET and POST /sign-in (the page; the development form's post), POST /sign-out, and the
 * OIDC routes when OIDC is configured.
 */
export function mountSignInRoutes(router: Router, deps: SignInRoutesDeps): void {
  const { auth, session, send } = deps;
  const { development, oidc } = auth.modes;

  const signInBody = async (res: Response, next: string, error?: string) =>
    signInPage({
      development,
      trustedHeader: auth.modes.trustedHeader !== undefined,
      // Asking for the problem retries discovery of an issuer that was down; an error says enough.
      oidc: oidc && {
        name: oidc.signIn.name,
        problem: error ? undefined : await oidc.signIn.problem(),
      },
      csrfToken: auth.cookies.csrfToken(sessionOf(res)),
      next,
      error,
    });
  const refused = (res: Response, status: number, message: string) =>
    send(res, {
      title: status === 404 ? "Not found" : "Sign in",
      section: "other",
      body: errorPage(status, message),
      status,
    });

  router.get("/sign-in", ...session, async (req, res) => {
    const next = localPath(req.query.next);
    if (res.locals.principal) {
      res.redirect(303, next);
      return;
    }
    const refusal = development ? developmentRefusal(req) : undefined;
    if (refusal) return refused(res, 403, refusal);
    await send(res, { title: "Sign in", section: "other", body: await signInBody(res, next) });
  });

  router.post("/sign-in", ...session, async (req: Request, res) => {
    const form = req.body as Record<string, unknown>;
    const next = localPath(form.next);
    if (!development) return refused(res, 404, "");
    const refusal = developmentRefusal(req);
    if (refusal) return refused(res, 403, refusal);
    let email: string;
    try {
      email = normalizeEmail(one(form.email) ?? "");
    } catch {
      const body = await signInBody(res, next, "Enter an email address, like you@example.com.");
      await send(res, { title: "Sign in", section: "other", body, status: 400 });
      return;
    }
    const user = await auth.users.ensureUser(email);
    await startSession(req, res, auth, user, "development");
    res.redirect(303, next);
  });

  // Ends the session on the server: a copy of the cookie is worth nothing afterwards.
  router.post("/sign-out", ...session, async (req, res) => {
    await endSession(res, auth);
    setSession(req, res, auth, auth.cookies.anonymous());
    res.redirect(303, "/sign-in");
  });

  if (oidc) {
    router.use(
      oidcRoutes({
        auth,
        oidc: oidc.signIn,
        flows: oidc.flows,
        syncGroups: oidc.syncGroups,
        session,
        refuse: async (res, next, message, status) => {
          const body = await signInBody(res, next, message);
          await send(res, { title: "Sign in", section: "other", body, status });
        },
      }),
    );
  }
}
