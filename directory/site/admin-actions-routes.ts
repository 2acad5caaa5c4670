import type { RequestHandler, Response, Router } from "express";
import {
  type AccessPolicy,
  actorOf,
  normalizeEmail,
  PLATFORM,
  type UserPrincipal,
} from "../../authz/index.js";
import { badRequest, echoInput, forbidden } from "../../core/index.js";
import type { AgentDirectory, AgentRegistry } from "../registry/index.js";
import { one } from "./form-values.js";
import type { SitePageParts } from "./page-parts.js";
import { retireConfirmPage } from "./pages/admin-actions.js";

export interface AdminActionRoutesDeps extends SitePageParts {
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
}

const RELATIONS = ["viewer", "runner", "editor"] as const;
const TEAM_MEMBERS = /^team:([a-z0-9][a-z0-9-]{0,62})#member$/;

/** An email (a person) or `team:SLUG#member`, as a tuple's user; anything else in words. */
function subjectOf(input: string | undefined): string {
  if (!input) throw badRequest("Say who gets the access: an email, or team:SLUG#member.");
  if (input.startsWith("team:")) {
    if (TEAM_MEMBERS.test(input)) return input;
    throw badRequest(
      `"${echoInput(input)}" is not a team's members: write team:SLUG#member, for example team:platform#member.`,
    );
  }
  try {
    return `user:${normalizeEmail(input.replace(/^user:/, ""))}`;
  } catch {
    throw badRequest(
      `"${echoInput(input)}" is not an email address. Give a person's email, or team:SLUG#member.`,
    );
  }
}

function emailOf(input: string | undefined): string {
  try {
    return normalizeEmail(input ?? "");
  } catch {
    throw badRequest(`"${echoInput(input ?? "")}" is not an email address.`);
  }
}

/**
 * The admin page's actions: suspend, enable and retire agents, grant and revoke access to
 * agents, make and remove platform admins. Each checks that the caller is a platform admin on
 * every POST (403 otherwise, nothing changed; the session middleware has checked the CSRF
 * token), and goes through the services the API and CLI use, which audit each change.
 */
export function mountAdminActionRoutes(router: Router, deps: AdminActionRoutesDeps): void {
  const { directory, registry, access, session, signedIn, send } = deps;
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;
  const adminOnly: RequestHandler = async (_req, res, next) => {
    if (await access.can(principalOf(res), "admin", PLATFORM, { fresh: true })) return next();
    next(forbidden("Only platform admins may do this."));
  };
  const guarded = [...session, signedIn, adminOnly];
  const nameOf = (value: unknown) => {
    const name = one(value, 63);
    if (!name) throw badRequest("Say which agent.");
    return name;
  };

  router.post("/admin/agents/:name/state", ...guarded, async (req, res) => {
    const form = req.body as Record<string, unknown>;
    const state = one(form.state, 20);
    if (state !== "enabled" && state !== "suspended")
      throw badRequest("An agent can be set to enabled or suspended here.");
    const name = nameOf(req.params.name);
    await directory.setState(principalOf(res), name, { state, reason: one(form.reason, 500) });
    res.redirect(303, `/admin?done=${encodeURIComponent(`${name} is now ${state}.`)}#access`);
  });

  // First POST: the confirmation page. Second POST, with confirm=yes: retired.
  router.post("/admin/agents/:name/retire", ...guarded, async (req, res) => {
    const form = req.body as Record<string, unknown>;
    const name = nameOf(req.params.name);
    const principal = principalOf(res);
    if (one(form.confirm, 3) !== "yes") {
      const agent = await directory.get(principal, name);
      await send(res, {
        title: `Retire ${agent.title}?`,
        section: "admin",
        body: retireConfirmPage(agent, deps.csrfToken(res)),
      });
      return;
    }
    await directory.retire(principal, name);
    res.redirect(303, `/admin?done=${encodeURIComponent(`${name} is retired.`)}#access`);
  });

  router.post("/admin/access", ...guarded, async (req, res) => {
    const form = req.body as Record<string, unknown>;
    const change = one(form.change, 10);
    if (change !== "grant" && change !== "revoke") throw badRequest("Choose Grant or Revoke.");
    const relation = one(form.relation, 20) as (typeof RELATIONS)[number];
    if (!RELATIONS.includes(relation)) throw badRequest("Access is viewer, runner or editor.");
    const name = nameOf(form.agent);
    const user = subjectOf(one(form.subject, 400));
    const tuple = { user, relation, object: `agent:${name}` };
    await registry.changeAccess(change, tuple, { actor: actorOf(principalOf(res)) });
    const done =
      change === "grant"
        ? `Granted ${relation} on ${name} to ${user}.`
        : `Revoked ${relation} on ${name} from ${user}.`;
    res.redirect(303, `/admin?done=${encodeURIComponent(done)}#access`);
  });

  router.post("/admin/platform-admins", ...guarded, async (req, res) => {
    const form = req.body as Record<string, unknown>;
    const change = one(form.change, 10);
    if (change !== "grant" && change !== "revoke") throw badRequest("Choose to add or remove.");
    const email = emailOf(one(form.email, 320));
    const tuple = { user: `user:${email}`, relation: "admin", object: PLATFORM };
    await registry.changeAccess(change, tuple, { actor: actorOf(principalOf(res)) });
    const done =
      change === "grant"
        ? `${email} is now a platform admin.`
        : `${email} is no longer a platform admin.`;
    res.redirect(303, `/admin?done=${encodeURIComponent(done)}#platform-admins`);
  });
}
