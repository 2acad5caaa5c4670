import type { Request, Response, Router } from "express";
import type { UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import type { AccessRequest, AccessRequests } from "../access-requests/index.js";
import { type Html, html } from "./html.js";
import type { SitePageParts } from "./page-parts.js";
import { CSRF_FIELD } from "./site-auth.js";

export interface AccessRequestPagesDeps extends SitePageParts {
  requests: AccessRequests;
}

const csrf = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;

const field = (form: Record<string, unknown>, name: string, max: number) => {
  const value = form[name];
  return typeof value === "string" ? value.slice(0, max + 1) : undefined;
};

/** Fixed notices after a redirect (never free text: the link is shareable). */
const DONE: Record<string, string> = {
  approved: "Approved: they may run the agent now, and they are told.",
  denied: "Denied: they are told, with your reason.",
};

/**
 * On an agent page, for someone who may see it but not run it: their request that waits, or
 * a form asking the owners (with a reason). Never a command line.
 */
export function accessRequestForm(
  agentName: string,
  pending: AccessRequest | undefined,
  csrfToken: string,
  error?: string,
): Html {
  if (pending) {
    return html`<p class="ok">You asked on <time datetime="${pending.createdAt.toISOString()}">${pending.createdAt.toISOString().slice(0, 10)}</time>: “${pending.reason}”. The owners decide: this page shows their decision, and Slack or Teams tell you too where Switchboard can reach you.</p>`;
  }
  return html`<form method="post" action="/agents/${encodeURIComponent(agentName)}/access-requests" class="secret-form">
  ${csrf(csrfToken)}
  ${error && html`<p class="notice error" role="alert">${error}</p>`}
  <label for="access-reason">Why do you need it? (the owners see this)</label>
  <input type="text" id="access-reason" name="reason" maxlength="1000" required>
  <button type="submit">Request access</button>
</form>`;
}

function requestsPage(
  requests: AccessRequest[],
  token: string,
  notice?: { kind: string; text: string },
): Html {
  return html`<div class="page-intro">
  <h1>Access requests</h1>
  <p class="lede">People asking to run agents you own. Approve to let them run it; deny with your reason. They are told either way.</p>
</div>
${notice && html`<p class="notice ${notice.kind}" role="${notice.kind === "error" ? "alert" : "status"}">${notice.text}</p>`}
${
  requests.length === 0
    ? html`<div class="empty card"><p><strong>Nothing waits for you.</strong></p></div>`
    : requests.map(
        (r) => html`<section class="card secret" aria-labelledby="request-${r.id}">
  <h2 id="request-${r.id}">${r.requesterEmail} asks to run <a href="/agents/${encodeURIComponent(r.agentName)}">${r.agentName}</a></h2>
  <blockquote>${r.reason}</blockquote>
  <form method="post" action="/requests/${r.id}/approve" class="secret-form">
    ${csrf(token)}
    <button type="submit">Approve</button>
  </form>
  <form method="post" action="/requests/${r.id}/deny" class="secret-form">
    ${csrf(token)}
    <label for="reason-${r.id}">Reason (shown to ${r.requesterEmail})</label>
    <input type="text" id="reason-${r.id}" name="reason" maxlength="1000">
    <button type="submit" class="button-quiet">Deny</button>
  </form>
</section>`,
      )
}`;
}

/** The requests inbox (/requests) and the agent page's "Request access" form's target. */
export function mountAccessRequestPages(router: Router, deps: AccessRequestPagesDeps): void {
  const { requests, session, signedIn } = deps;
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;

  async function showInbox(res: Response, notice?: { kind: string; text: string }, status = 200) {
    await deps.send(res, {
      title: "Access requests",
      section: "requests",
      status,
      body: requestsPage(await requests.pendingFor(principalOf(res)), deps.csrfToken(res), notice),
    });
  }

  router.get("/requests", ...session, signedIn, async (req: Request, res) => {
    const text = typeof req.query.done === "string" ? DONE[req.query.done] : undefined;
    await showInbox(res, text ? { kind: "done", text } : undefined);
  });

  router.post("/agents/:name/access-requests", ...session, signedIn, async (req, res) => {
    const name = String(req.params.name);
    const form = req.body as Record<string, unknown>;
    try {
      await requests.file(principalOf(res), name, field(form, "reason", 1000));
      res.redirect(303, `/agents/${encodeURIComponent(name)}#request-access`);
    } catch (error) {
      if (!isSwitchboardError(error) || error.status >= 500) throw error;
      await deps.send(res, {
        title: "Request access",
        section: "catalog",
        status: error.status,
        body: html`<h1>Request access</h1>${accessRequestForm(name, undefined, deps.csrfToken(res), error.message)}<p><a href="/agents/${encodeURIComponent(name)}">Back to the agent</a></p>`,
      });
    }
  });

  for (const decision of ["approve", "deny"] as const) {
    router.post(`/requests/:id/${decision}`, ...session, signedIn, async (req, res) => {
      const form = req.body as Record<string, unknown>;
      try {
        const result = await requests.decide(principalOf(res), String(req.params.id), {
          decision,
          reason: field(form, "reason", 1000) || undefined,
        });
        if (!result.applied) {
          const by = result.request.decidedBy?.replace(/^user:/, "");
          const text = `This request was already ${result.request.status}${by ? ` by ${by}` : ""}; nothing changed.`;
          await showInbox(res, { kind: "error", text }, 409);
          return;
        }
        res.redirect(303, `/requests?done=${decision === "approve" ? "approved" : "denied"}`);
      } catch (error) {
        if (!isSwitchboardError(error) || error.status >= 500) throw error;
        await showInbox(res, { kind: "error", text: error.message }, error.status);
      }
    });
  }
}
