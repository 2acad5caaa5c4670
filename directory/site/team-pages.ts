import type { Response, Router } from "express";
import {
  type AccessPolicy,
  actorOf,
  PLATFORM,
  type UserDirectory,
  type UserPrincipal,
} from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import type { AuditLog } from "../../governance/index.js";
import type { TeamMemberships, Teams } from "../registry/index.js";
import type { SitePageParts } from "./page-parts.js";
import { errorPage } from "./pages/error-page.js";
import { teamPage } from "./pages/team-page.js";

export interface TeamPagesDeps extends SitePageParts {
  teams: Teams;
  memberships: TeamMemberships;
  users: UserDirectory;
  access: AccessPolicy;
  audit: AuditLog;
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * GET /teams/SLUG: who is in the team and where each membership came from, for its members
 * and platform admins (anyone else: the same 404 as a team that does not exist). POST
 * /teams/SLUG/members: a team admin (or platform admin) adds a member by hand; such a
 * membership is never removed by SCIM or OIDC.
 */
export function mountTeamPages(router: Router, deps: TeamPagesDeps): void {
  const { teams, memberships, access, session, signedIn, send } = deps;
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;

  async function show(
    res: Response,
    slug: string,
    notice?: { kind: "done" | "error"; text: string },
    status = 200,
  ): Promise<void> {
    const principal = principalOf(res);
    const team = SLUG.test(slug) ? await teams.findBySlug(slug) : undefined;
    const object = `team:${slug}`;
    const admin = team && (await access.can(principal, "admin", PLATFORM));
    const member = team && (admin || (await access.can(principal, "member", object)));
    if (!team || !member) {
      await send(res, {
        title: "Not found",
        section: "other",
        body: errorPage(404, ""),
        status: 404,
      });
      return;
    }
    const mayAdd = Boolean(admin || (await access.can(principal, "admin", object)));
    await send(res, {
      title: team.name,
      section: "other",
      status,
      body: teamPage({
        slug: team.slug,
        name: team.name,
        members: await memberships.members(team.slug),
        mayAdd,
        csrfToken: deps.csrfToken(res),
        notice,
      }),
    });
  }

  router.get("/teams/:slug", ...session, signedIn, async (req, res) => {
    await show(res, String(req.params.slug));
  });

  router.post("/teams/:slug/members", ...session, signedIn, async (req, res) => {
    const slug = String(req.params.slug);
    const principal = principalOf(res);
    const object = `team:${slug}`;
    const allowed =
      SLUG.test(slug) &&
      (await teams.findBySlug(slug)) &&
      ((await access.can(principal, "admin", PLATFORM)) ||
        (await access.can(principal, "admin", object)));
    if (!allowed) return show(res, slug, undefined, 404);
    const email = String((req.body as Record<string, unknown>).email ?? "").slice(0, 320);
    try {
      const person = await deps.users.ensureUser(email);
      if (!person.isActive) {
        return show(res, slug, { kind: "error", text: `${person.email} is deactivated.` }, 409);
      }
      await memberships.add(slug, { userId: person.id, email: person.email }, "manual");
      await deps.audit.record({
        actor: actorOf(principal),
        action: "team.member_added",
        targetType: "team",
        targetId: slug,
        details: { user: person.email, source: "manual" },
      });
      await show(res, slug, { kind: "done", text: `Added ${person.email}.` });
    } catch (error) {
      if (!isSwitchboardError(error) || error.status !== 400) throw error;
      await show(res, slug, { kind: "error", text: error.message }, 400);
    }
  });
}
