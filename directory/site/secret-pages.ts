import type { Request, RequestHandler, Response, Router } from "express";
import { type UserPrincipal, userSubject } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import { isAgentName, type SecretService, secretNameOf } from "../../secrets/index.js";
import type { SitePageParts } from "./page-parts.js";
import { type SecretsPageOptions, secretsPage } from "./pages/secrets-page.js";

export interface SecretPagesDeps extends SitePageParts {
  secrets: SecretService;
}

/** What a change did, as the redirect after it names it (never free text: the link is shareable). */
type Done = {
  done: "created" | "saved" | "granted" | "revoked" | "deleted";
  secret: string;
  agent?: string;
};

/** The notice for `?done=…&secret=…&agent=…`, when those are what a change could have said. */
function doneNotice(query: Request["query"]): string | undefined {
  const secret = typeof query.secret === "string" ? secretNameOf(query.secret) : undefined;
  const agent = typeof query.agent === "string" && isAgentName(query.agent) ? query.agent : "";
  if (!secret) return undefined;
  switch (query.done) {
    case "created":
      return `Created the secret ${secret}.`;
    case "saved":
      return `Saved the secret ${secret}.`;
    case "deleted":
      return `Deleted the secret ${secret}.`;
    case "granted":
      return agent ? `The agent ${agent} may now use ${secret}.` : undefined;
    case "revoked":
      return agent ? `The agent ${agent} may no longer use ${secret}.` : undefined;
    default:
      return undefined;
  }
}

const field = (form: Record<string, unknown>, name: string, max = 500) => {
  const value = form[name];
  return typeof value === "string" ? value.trim().slice(0, max) : undefined;
};

/**
 * The site's secrets page and its forms (no JavaScript needed). `SecretService` decides who
 * may do what; a form that is refused shows the page again with the reason, and a value
 * that was sent is never put back into the page.
 */
export function mountSecretPages(router: Router, deps: SecretPagesDeps): void {
  const { secrets, session, signedIn } = deps;
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;

  async function show(
    res: Response,
    extra: Pick<SecretsPageOptions, "notice" | "draft"> = {},
    status = 200,
  ): Promise<void> {
    const principal = principalOf(res);
    let list: SecretsPageOptions["secrets"] = [];
    let off: string | undefined;
    try {
      list = await secrets.list(principal);
    } catch (error) {
      if (!isSwitchboardError(error) || error.code !== "secret_store_off") throw error;
      off = error.message;
    }
    await deps.send(res, {
      title: "Secrets",
      section: "secrets",
      status,
      body: secretsPage({
        secrets: list,
        csrfToken: deps.csrfToken(res),
        me: userSubject(principal.email),
        off,
        ...extra,
      }),
    });
  }

  /** Runs a change; a refusal in words re-renders the page with it, other errors go on. */
  function change(
    work: (principal: UserPrincipal, req: Request) => Promise<Done>,
    draftOf?: (form: Record<string, unknown>) => SecretsPageOptions["draft"],
  ): RequestHandler {
    return async (req, res) => {
      try {
        const done = await work(principalOf(res), req);
        res.redirect(303, `/secrets?${new URLSearchParams(done).toString()}`);
      } catch (error) {
        if (!isSwitchboardError(error) || error.status >= 500) throw error;
        const form = req.body as Record<string, unknown>;
        await show(
          res,
          { notice: { kind: "error", text: error.message }, draft: draftOf?.(form) },
          error.status,
        );
      }
    };
  }

  router.get("/secrets", ...session, signedIn, async (req, res) => {
    const done = doneNotice(req.query);
    await show(res, done ? { notice: { kind: "done", text: done } } : {});
  });

  router.post(
    "/secrets",
    ...session,
    signedIn,
    change(
      async (principal, req) => {
        const form = req.body as Record<string, unknown>;
        const value = typeof form.value === "string" && form.value !== "" ? form.value : undefined;
        const result = await secrets.put(principal, field(form, "name", 200) ?? "", {
          value,
          owner: field(form, "owner", 300) || undefined,
          description: field(form, "description"),
        });
        return {
          done: result.outcome === "created" ? "created" : "saved",
          secret: result.secret.name,
        };
      },
      (form) => ({
        name: field(form, "name", 200),
        owner: field(form, "owner", 300),
        description: field(form, "description"),
      }),
    ),
  );

  router.post(
    "/secrets/:name/grants",
    ...session,
    signedIn,
    change(async (principal, req) => {
      const agent = field(req.body as Record<string, unknown>, "agent", 200) ?? "";
      const secret = await secrets.grant(principal, String(req.params.name), agent);
      return { done: "granted", secret: secret.name, agent };
    }),
  );

  router.post(
    "/secrets/:name/grants/:agent/revoke",
    ...session,
    signedIn,
    change(async (principal, req) => {
      const agent = String(req.params.agent);
      const secret = await secrets.revoke(principal, String(req.params.name), agent);
      return { done: "revoked", secret: secret.name, agent };
    }),
  );

  router.post(
    "/secrets/:name/delete",
    ...session,
    signedIn,
    change(async (principal, req) => {
      const secret = await secrets.remove(principal, String(req.params.name));
      return { done: "deleted", secret };
    }),
  );
}
