import type { Request, Response, Router } from "express";
import type { UserPrincipal } from "../../authz/index.js";
import type { RunsService } from "../../sessions/index.js";
import type { AgentDirectory } from "../registry/index.js";
import type { Html } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import type { SitePageParts } from "./page-parts.js";
import { chatPanel } from "./pages/chat-panel.js";
import { sessionPage, sessionsListPage } from "./pages/sessions-page.js";

const SESSIONS_PAGE_SIZE = 25;

export interface RunPagesDeps extends SitePageParts {
  runs: RunsService;
  directory: AgentDirectory;
}

const text = (value: unknown) => (typeof value === "string" ? value : undefined);

/**
 * The site's pages over the runs engine: "My sessions", one session, and the chat form's
 * POST for browsers without JavaScript (site.js uses the REST API and its event stream).
 * RunsService decides who may start, continue and read; these routes only render.
 */
export function mountRunPages(router: Router, deps: RunPagesDeps): void {
  const { runs, directory, session, signedIn, send } = deps;
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;

  router.get("/sessions", ...session, signedIn, async (req: Request, res) => {
    const cursor = text(req.query.cursor)?.slice(0, 500);
    const page = await runs.listSessions(principalOf(res), { cursor, limit: SESSIONS_PAGE_SIZE });
    await send(res, {
      title: "My sessions",
      section: "sessions",
      body: sessionsListPage(page.items, page.nextCursor, cursor !== undefined),
    });
  });

  router.get("/sessions/:id", ...session, signedIn, async (req, res) => {
    const principal = principalOf(res);
    // Not the reader's and not an editor's: the same 404 as a session that does not exist.
    const detail = await runs.session(principal, String(req.params.id));
    const own = detail.session.userId === principal.userId;
    let panel: Html | undefined;
    // Only its person continues a session, while they may still run the agent.
    if (own && detail.agent && !detail.agent.retired && detail.agent.state === "enabled") {
      const permissions = await directory.permissions(principal, detail.agent.name);
      if (permissions.run) {
        panel = chatPanel({
          agent: detail.agent,
          csrfToken: deps.csrfToken(res),
          sessionId: detail.session.id,
        });
      }
    }
    await send(res, {
      title: detail.session.title?.trim() || "Session",
      section: "sessions",
      body: sessionPage({
        detail,
        own,
        chatPanel: panel,
        csrfToken: own ? deps.csrfToken(res) : undefined,
      }),
    });
  });

  // "End session": the runs service checks it is the person's and that nothing still runs.
  router.post("/sessions/:id/close", ...session, signedIn, async (req, res) => {
    const closed = await runs.closeSession(principalOf(res), String(req.params.id));
    res.redirect(303, `/sessions/${closed.session.id}`);
  });

  // A finished answer rendered from Markdown, for site.js to swap in once the run ends: the
  // stream shows plain text while it is written, and the one renderer formats the result.
  // The same read check as the run itself (a run the reader may not see is a 404).
  router.get("/runs/:id/answer", ...session, signedIn, async (req, res) => {
    const { run } = await runs.get(principalOf(res), String(req.params.id));
    res
      .status(200)
      .type("text/html")
      .set("cache-control", "no-store")
      .send(renderMarkdown(run.status === "succeeded" ? (run.output ?? "") : "").text);
  });

  // The chat form without JavaScript: start the turn, then show it on the session page.
  router.post("/agents/:name/chat", ...session, signedIn, async (req, res) => {
    const form = req.body as Record<string, unknown>;
    const started = await runs.start(principalOf(res), {
      agentName: String(req.params.name),
      input: text(form.input),
      sessionId: text(form.session_id) || undefined,
    });
    res.redirect(303, `/sessions/${started.session.id}#turn-${started.run.id}`);
  });
}
