import type { RequestHandler, Response, Router } from "express";
import { type AccessPolicy, actorOf, PLATFORM, type UserPrincipal } from "../../authz/index.js";
import { badRequest, isSwitchboardError } from "../../core/index.js";
import {
  type AuditLog,
  type AuditRecord,
  csvLine,
  type OutcomesService,
  presentAuditRecord,
} from "../../governance/index.js";
import type { RunsService } from "../../sessions/index.js";
import { AGENT_STATES, type AgentDirectory, type AgentRegistry } from "../registry/index.js";
import { one } from "./form-values.js";
import { html } from "./html.js";
import type { SitePageParts } from "./page-parts.js";
import { accessSection, pendingApprovalsSection } from "./pages/admin-actions.js";
import { type AuditForm, auditControls } from "./pages/admin-audit.js";
import { adminPage } from "./pages/admin-page.js";
import { sessionsSection } from "./pages/admin-sessions.js";
import { errorPage } from "./pages/error-page.js";
import { outcomesSection } from "./pages/outcomes-section.js";
import type { SiteSessions } from "./site-sessions.js";

const ADMIN_AGENT_LIMIT = 100;
const ADMIN_SESSION_LIMIT = 100;
const ADMIN_AUDIT_LIMIT = 100;
const AUDIT_CSV_LIMIT = 10_000;
const AUDIT_FIELDS = ["action", "actor", "target", "from", "to"] as const;

/** The audit filters from a query string: `audit_action` on the page, `action` for the CSV. */
function auditFormOf(query: Record<string, unknown>, prefix: string): AuditForm {
  const form: AuditForm = {};
  for (const name of AUDIT_FIELDS) {
    const value = one(query[`${prefix}${name}`], 320);
    if (value) form[name] = value;
  }
  return form;
}

/** Runs a search; a filter the log cannot read comes back as the reason, not an error page. */
async function searchAudit(
  audit: AuditLog,
  form: AuditForm,
  limit: number,
): Promise<{ entries: AuditRecord[]; error?: string }> {
  try {
    return { entries: await audit.search({ ...form, limit }) };
  } catch (error) {
    if (!isSwitchboardError(error) || error.status >= 500) throw error;
    return { entries: [], error: error.message };
  }
}

export interface AdminRoutesDeps extends SitePageParts {
  directory: AgentDirectory;
  access: AccessPolicy;
  audit: AuditLog;
  sessions: SiteSessions;
  /** Outcomes across agents over the last 30 days, under the agents. */
  outcomes?: OutcomesService | undefined;
  /** With it the page acts (agents' state, access, platform admins): admin-actions-routes. */
  registry?: AgentRegistry | undefined;
  /** Pending budget approvals, linked to /approvals. */
  runs?: RunsService | undefined;
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
    const auditForm = auditFormOf(req.query, "audit_");
    const [page, found, live, registration, outcomes, admins, approvals] = await Promise.all([
      directory.list(principal, { states: AGENT_STATES, limit: ADMIN_AGENT_LIMIT }),
      searchAudit(audit, auditForm, ADMIN_AUDIT_LIMIT),
      sessions.list({ limit: ADMIN_SESSION_LIMIT + 1 }),
      directory.registration(principal),
      deps.outcomes?.report(principal, {
        from: one(req.query.from, 10),
        to: one(req.query.to, 10),
      }),
      deps.registry?.platformAdmins(),
      deps.runs?.pendingApprovals(principal),
    ]);
    const ended = Number.parseInt(one(req.query.ended, 10) ?? "", 10);
    const sessionList = sessionsSection(live.slice(0, ADMIN_SESSION_LIMIT), {
      csrfToken: deps.csrfToken(res),
      ended: Number.isNaN(ended) ? undefined : ended,
      more: live.length > ADMIN_SESSION_LIMIT,
    });
    const csrfToken = deps.csrfToken(res);
    const acts = deps.registry !== undefined;
    const actions = html`${approvals && pendingApprovalsSection(approvals)}${admins && accessSection(admins, csrfToken, { done: one(req.query.done, 300) })}`;
    await send(res, {
      title: "Administration",
      section: "admin",
      body: html`${adminPage(page.items, found.entries, page.nextCursor !== null, sessionList, registration.who, auditControls(auditForm, found.error), acts ? { csrfToken, actions } : undefined)}${outcomes && outcomesSection(outcomes, { perAgent: true })}`,
    });
  });

  // The audit log as CSV, with the page's filters (their names without `audit_`).
  router.get("/admin/audit.csv", ...session, signedIn, adminOnly, async (req, res) => {
    const found = await searchAudit(audit, auditFormOf(req.query, ""), AUDIT_CSV_LIMIT);
    if (found.error) {
      res.status(400).type("text/plain; charset=utf-8").send(`${found.error}\n`);
      return;
    }
    let csv = csvLine([
      "id",
      "occurred_at",
      "actor",
      "action",
      "target_type",
      "target_id",
      "request_id",
      "details",
    ]);
    for (const record of found.entries) {
      const row = presentAuditRecord(record);
      csv += csvLine([
        row.id,
        row.occurred_at,
        row.actor,
        row.action,
        row.target_type,
        row.target_id,
        row.request_id,
        JSON.stringify(row.details),
      ]);
    }
    res
      .status(200)
      .type("text/csv; charset=utf-8")
      .set("cache-control", "no-store")
      .set("content-disposition", 'attachment; filename="audit-log.csv"')
      .send(csv);
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
