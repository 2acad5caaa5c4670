import type { RequestHandler, Response, Router } from "express";
import { type AccessPolicy, actorOf, PLATFORM, type UserPrincipal } from "../../authz/index.js";
import { badRequest } from "../../core/index.js";
import type { AuditLog, OutcomesService } from "../../governance/index.js";
import { AGENT_STATES, type AgentDirectory } from "../registry/index.js";
import { one } from "./form-values.js";
import { html } from "./html.js";
import type { SitePageParts } from "./page-parts.js";
import { adminPage } from "./pages/admin-page.js";
import { sessionsSection } from "./pages/admin-sessions.js";
import { errorPage } from "./pages/error-page.js";
import { outcomesSection } from "./pages/outcomes-section.js";
import type { SiteSessions } from "./site-sessions.js";

const ADMIN_AGENT_LIMIT = 100;
const ADMIN_SESSION_LIMIT = 100;

export interface AdminRoutesDeps extends SitePageParts {
  directory: AgentDirectory;
  access: AccessPolicy;
  audit: AuditLog;
  sessions: SiteSessions;
  /** Outcomes across agents over the last 30 days, under the agents. */
  outcomes?: OutcomesService | undefined;
}

/**
 * GET /admin (agents by state, signed-in sessions, the audit log) and POST
 * /admin/sessions/revoke (end one session, or all of a person's). Platform admins only;
 * anyone else gets the same 404 as for a page that does not exist.
 */
export function mountAdminRoutes(router: Router, deps: AdminRoutesDeps): void {
  const { directory, access, audit, sessions, session, signedIn, send } = deps;
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;
  const adminOnly: RequestHandler = async (_req, res, next) => {
    if (await access.can(principalOf(res), "admin", PLATFORM)) return next();
    await send(res, {
      title: "Not found",
      section: "other",
      body: errorPage(404, ""),
      status: 404,
    });
  };

  router.get("/admin", ...session, signedIn, adminOnly, async (req, res) => {
    const principal = principalOf(res);
    const [page, entries, live, registration, outcomes] = await Promise.all([
      directory.list(principal, { states: AGENT_STATES, limit: ADMIN_AGENT_LIMIT }),
      audit.recent({ limit: 30 }),
      sessions.list({ limit: ADMIN_SESSION_LIMIT + 1 }),
      directory.registration(principal),
      deps.outcomes?.report(principal, {
        from: one(req.query.from, 10),
        to: one(req.query.to, 10),
      }),
    ]);
    const ended = Number.parseInt(one(req.query.ended, 10) ?? "", 10);
    const sessionList = sessionsSection(live.slice(0, ADMIN_SESSION_LIMIT), {
      csrfToken: deps.csrfToken(res),
      ended: Number.isNaN(ended) ? undefined : ended,
      more: live.length > ADMIN_SESSION_LIMIT,
    });
    await send(res, {
      title: "Administration",
      section: "admin",
      body: html`${adminPage(page.items, entries, page.nextCursor !== null, sessionList, registration.who)}${outcomes && outcomesSection(outcomes, { perAgent: true })}`,
    });
  });

  router.post("/admin/sessions/revoke", ...session, signedIn, adminOnly, async (req, res) => {
    const form = req.body as Record<string, unknown>;
    const actor = actorOf(principalOf(res));
    const id = one(form.session);
    const email = one(form.user, 320);
    let ended: number;
    if (id) {
      await sessions.revoke(id, actor);
      ended = 1;
    } else if (email) {
      ended = await sessions.revokeUser(email, actor);
    } else {
      throw badRequest("Say which session to end, or whose sessions.");
    }
    res.redirect(303, `/admin?ended=${ended}#sessions`);
  });
}
