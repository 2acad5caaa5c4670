import { readFileSync } from "node:fs";
import express, {
  type ErrorRequestHandler,
  type RequestHandler,
  type Response,
  Router,
} from "express";
import { type AccessPolicy, PLATFORM, type UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import type { AuditLog, Budgets, OutcomesService, SpendService } from "../../governance/index.js";
import type { SecretService } from "../../secrets/index.js";
import type { RunsService } from "../../sessions/index.js";
import type { AccessRequests } from "../access-requests/index.js";
import { refuseUnstorableInput } from "../api/refuse-unstorable-input.js";
import type { AgentDirectory, AgentRegistry, TeamMemberships, Teams } from "../registry/index.js";
import type { AgentUsage } from "../usage/index.js";
import { accessRequestForm, mountAccessRequestPages } from "./access-request-pages.js";
import { mountAdminActionRoutes } from "./admin-actions-routes.js";
import { mountAdminRoutes } from "./admin-routes.js";
import { mountBudgetPages } from "./budget-pages.js";
import { one } from "./form-values.js";
import type { Html } from "./html.js";
import { agentPage, type ChatLinks } from "./pages/agent-page.js";
import { type CatalogQuery, catalogBody, catalogPage } from "./pages/catalog-page.js";
import { chatPanel } from "./pages/chat-panel.js";
import { codingToolsSection } from "./pages/coding-tools.js";
import { errorPage } from "./pages/error-page.js";
import { layout, type PageChrome, type Section } from "./pages/layout.js";
import { outcomesSection } from "./pages/outcomes-section.js";
import { usageSection } from "./pages/usage-charts.js";
import { mountRunPages } from "./run-pages.js";
import { mountSecretPages } from "./secret-pages.js";
import { mountSignInRoutes } from "./sign-in-routes.js";
import { type SiteAuth, sessionOf, siteSession } from "./site-auth.js";
import { siteHeaders } from "./site-headers.js";
import { mountSpendPages } from "./spend-pages.js";
import { mountTeamPages } from "./team-pages.js";

export interface DirectorySiteOptions {
  directory: AgentDirectory;
  access: AccessPolicy;
  audit: AuditLog;
  auth: SiteAuth;
  chat?: ChatLinks | undefined;
  /** The runs engine: chat panels, "My sessions". Without it the site only lists agents. */
  runs?: RunsService | undefined;
  /** The secret store: the "Secrets" page. */
  secrets?: SecretService | undefined;
  /** Budgets: the "Budgets" page (and, with runs, the approvals inbox). */
  budgets?: Budgets | undefined;
  /** Usage figures for catalog cards and agent pages. */
  usage?: AgentUsage | undefined;
  /** Spend views: the "Spend" page and its CSV. */
  spend?: SpendService | undefined;
  /** Outcomes of runs: on agent pages (for those who may change the agent) and the admin page. */
  outcomes?: OutcomesService | undefined;
  /** Teams and their memberships: the team pages (/teams/SLUG). */
  teams?: { teams: Teams; memberships: TeamMemberships } | undefined;
  /** Requests to run agents: the agent page's "Request access" form and /requests. */
  accessRequests?: AccessRequests | undefined;
  /** The registry: with it the admin page acts (agents' state, access, platform admins). */
  registry?: AgentRegistry | undefined;
  /** The MCP server's URL: agent pages show how to add it to Claude Code and Cursor. */
  mcpUrl?: string | undefined;
}

const CATALOG_PAGE_SIZE = 24;

const asset = (file: string) => readFileSync(new URL(`./assets/${file}`, import.meta.url), "utf8");

/**
 * The directory site: catalog, agent pages, admin and sign-in, rendered on the server. Every
 * page goes through `siteSession` (cookie, trusted header, CSRF) and shows only what
 * `AgentDirectory` lets the signed-in person see.
 */
export function createDirectorySite(options: DirectorySiteOptions): Router {
  const { directory, access, audit, auth } = options;
  const router = Router();
  const css = asset("site.css");
  const js = asset("site.js");
  const favicon = asset("favicon.svg");
  const session = [
    express.urlencoded({ extended: false, limit: "16kb" }),
    siteSession(auth),
    refuseUnstorableInput,
  ];
  router.use(siteHeaders);

  router.get("/assets/site.css", (_req, res) => {
    res.type("text/css").set("cache-control", "public, max-age=300").send(css);
  });
  router.get("/assets/site.js", (_req, res) => {
    res.type("text/javascript").set("cache-control", "public, max-age=300").send(js);
  });
  // An SVG from the site itself (img-src 'self'); /favicon.ico too, which browsers and
  // bookmarks ask for without reading the page's <link rel="icon">.
  router.get(["/assets/favicon.svg", "/favicon.ico"], (_req, res) => {
    res.type("image/svg+xml").set("cache-control", "public, max-age=86400").send(favicon);
  });

  async function chromeOf(res: Response): Promise<PageChrome> {
    const principal = res.locals.principal as UserPrincipal | undefined;
    return {
      principal,
      csrfToken: auth.cookies.csrfToken(sessionOf(res)),
      isAdmin: principal ? await access.can(principal, "admin", PLATFORM) : false,
      sessions: options.runs !== undefined,
      secrets: options.secrets !== undefined,
      budgets: options.budgets !== undefined,
      spend: options.spend !== undefined,
      requests: options.accessRequests !== undefined,
    };
  }

  async function send(
    res: Response,
    page: { title: string; section: Section; body: Html; status?: number },
  ): Promise<void> {
    const chrome = await chromeOf(res);
    res
      .status(page.status ?? 200)
      .type("html")
      .set("cache-control", "no-store")
      .send(layout(chrome, page));
  }

  /** Pages for signed-in people: anyone else is sent to sign in, and comes back after. */
  const signedIn: RequestHandler = (req, res, next) => {
    if (res.locals.principal) return next();
    res.redirect(303, `/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
  };
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;

  router.get("/", ...session, signedIn, async (req, res) => {
    const query: CatalogQuery = {
      q: one(req.query.q),
      owner: one(req.query.owner),
      tag: one(req.query.tag),
      runtime: one(req.query.runtime),
      lifecycle: one(req.query.lifecycle),
      cursor: one(req.query.cursor, 500),
    };
    const page = await directory.list(principalOf(res), {
      ...query,
      limit: CATALOG_PAGE_SIZE,
      facets: true,
    });
    // One grouped query for the whole page's "use in the last 30 days".
    const runCounts = await options.usage?.runCounts(page.items.map((agent) => agent.id));
    // site.js asks for just the part it replaces while someone types.
    if (req.query.fragment === "results") {
      res
        .type("html")
        .set("cache-control", "no-store")
        .send(catalogBody(query, page, runCounts).text);
      return;
    }
    const registration = await directory.registration(principalOf(res));
    await send(res, {
      title: query.q ? `“${query.q}”` : "Catalog",
      section: "catalog",
      body: catalogPage(query, page, runCounts, registration),
    });
  });

  router.get("/agents/:name", ...session, signedIn, async (req, res) => {
    const principal = principalOf(res);
    const name = String(req.params.name);
    const agent = await directory.get(principal, name);
    const [permissions, usage] = await Promise.all([
      directory.permissions(principal, name),
      options.usage?.forAgent(agent.id),
    ]);
    const outcomes =
      permissions.edit && options.outcomes
        ? await options.outcomes.report(principal, {
            agent: name,
            from: one(req.query.from, 10),
            to: one(req.query.to, 10),
          })
        : undefined;
    const canChat = options.runs !== undefined && permissions.run && agent.state === "enabled";
    const panel =
      canChat &&
      chatPanel({
        agent,
        csrfToken: auth.cookies.csrfToken(sessionOf(res)),
        prompt: one(req.query.prompt, 2000),
      });
    await send(res, {
      title: agent.title,
      section: "catalog",
      body: agentPage(agent, permissions, principal, options.chat ?? {}, {
        chatPanel: panel || undefined,
        usage: usage && usageSection(usage),
        outcomes: outcomes && outcomesSection(outcomes, { perAgent: false }),
        codingTools:
          options.mcpUrl && permissions.run && agent.state === "enabled"
            ? codingToolsSection(options.mcpUrl, agent.name)
            : undefined,
        accessRequest:
          !permissions.run && options.accessRequests
            ? accessRequestForm(
                name,
                await options.accessRequests.latestOf(principal.userId, name),
                auth.cookies.csrfToken(sessionOf(res)),
              )
            : undefined,
      }),
    });
  });

  // What the pages mounted from other files share: the session, sign-in, the frame.
  const pages = {
    session,
    signedIn,
    send,
    csrfToken: (res: Response) => auth.cookies.csrfToken(sessionOf(res)),
  };
  mountAdminRoutes(router, {
    ...pages,
    directory,
    access,
    audit,
    sessions: auth.sessions,
    outcomes: options.outcomes,
    registry: options.registry,
    runs: options.runs,
  });
  if (options.registry)
    mountAdminActionRoutes(router, { ...pages, directory, registry: options.registry, access });
  mountSignInRoutes(router, { auth, session, send });
  if (options.runs) mountRunPages(router, { ...pages, runs: options.runs, directory });
  if (options.secrets) mountSecretPages(router, { ...pages, secrets: options.secrets });
  if (options.budgets) {
    mountBudgetPages(router, { ...pages, budgets: options.budgets, runs: options.runs });
  }
  if (options.accessRequests) {
    mountAccessRequestPages(router, { ...pages, requests: options.accessRequests });
  }
  if (options.spend) mountSpendPages(router, { ...pages, spend: options.spend });
  if (options.teams) {
    mountTeamPages(router, { ...pages, ...options.teams, users: auth.users, access, audit });
  }

  router.use(siteErrors(send));
  return router;
}

/** Errors on site pages become HTML pages; an agent one may not view is the same 404 as none. */
function siteErrors(
  send: (
    res: Response,
    page: { title: string; section: Section; body: Html; status: number },
  ) => Promise<void>,
): ErrorRequestHandler {
  return async (error, _req, res, next) => {
    if (res.headersSent || !res.locals.session) return next(error);
    const known = isSwitchboardError(error);
    const status = known ? error.status : 500;
    if (status >= 500) (res as Response & { err?: unknown }).err = error;
    const message = known && status < 500 ? error.message : "Please try again in a moment.";
    try {
      await send(res, {
        title: "Error",
        section: "other",
        body: errorPage(status, message),
        status,
      });
    } catch {
      next(error);
    }
  };
}
