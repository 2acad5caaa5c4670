import type { Request, Response, Router } from "express";
import type { UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import { type SpendService, spendCsv } from "../../governance/index.js";
import { one } from "./form-values.js";
import type { SitePageParts } from "./page-parts.js";
import { type SpendForm, spendPage } from "./pages/spend-page.js";

export interface SpendPagesDeps extends SitePageParts {
  spend: SpendService;
}

const FIELDS = ["group_by", "from", "to", "team", "user", "agent", "runtime", "model"] as const;

function formOf(req: Request): SpendForm {
  const form: SpendForm = {};
  for (const name of FIELDS) {
    const value = one(req.query[name], 320);
    if (value) form[name] = value;
  }
  return form;
}

/**
 * GET /spend (the page) and GET /spend.csv (its figures to download), for every signed-in
 * person: `SpendService` decides what each may see, exactly as for the API. A refused or
 * unreadable filter shows the page again with the reason, and the CSV answers it as text.
 */
export function mountSpendPages(router: Router, deps: SpendPagesDeps): void {
  const { spend, session, signedIn } = deps;
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;

  router.get("/spend", ...session, signedIn, async (req, res) => {
    const principal = principalOf(res);
    const form = formOf(req);
    const viewer = await spend.viewer(principal);
    try {
      const answer = await spend.report(principal, form);
      await deps.send(res, {
        title: "Spend",
        section: "spend",
        body: spendPage({ viewer, form: { ...form, from: answer.from, to: answer.to }, answer }),
      });
    } catch (error) {
      if (!isSwitchboardError(error) || error.status >= 500) throw error;
      await deps.send(res, {
        title: "Spend",
        section: "spend",
        status: error.status,
        body: spendPage({ viewer, form, error: error.message }),
      });
    }
  });

  router.get("/spend.csv", ...session, signedIn, async (req, res) => {
    const form = formOf(req);
    try {
      const answer = await spend.report(principalOf(res), form);
      res
        .status(200)
        .type("text/csv; charset=utf-8")
        .set("cache-control", "no-store")
        .set(
          "content-disposition",
          `attachment; filename="spend-${answer.group_by}-${answer.from}-${answer.to}.csv"`,
        )
        .send(spendCsv(answer));
    } catch (error) {
      if (!isSwitchboardError(error) || error.status >= 500) throw error;
      res.status(error.status).type("text/plain; charset=utf-8").send(`${error.message}\n`);
    }
  });
}
