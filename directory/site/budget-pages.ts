import type { Request, Response, Router } from "express";
import type { UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import type { Budgets } from "../../governance/index.js";
import type { RunsService } from "../../sessions/index.js";
import type { SitePageParts } from "./page-parts.js";
import { approvalsPage, budgetsPage, type Notice } from "./pages/budgets-page.js";

export interface BudgetPagesDeps extends SitePageParts {
  budgets: Budgets;
  /** Approvals are decided through the runs service (it moves the held run on). */
  runs?: RunsService | undefined;
}

const field = (form: Record<string, unknown>, name: string, max = 300) => {
  const value = form[name];
  return typeof value === "string" ? value.trim().slice(0, max) : undefined;
};

/** A number field: empty is absent; anything else goes to governance as given (it says what is wrong). */
const numberField = (form: Record<string, unknown>, name: string): number | string | undefined => {
  const value = field(form, name, 50);
  if (!value) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : value;
};

/** Fixed notices for `?done=…` after a redirect (never free text: the link is shareable). */
const DONE: Record<string, string> = {
  saved: "Saved the budget.",
  deleted: "Deleted the budget.",
  approved: "Approved: the run starts now.",
  denied: "Denied: the run was stopped and its person told.",
};

/**
 * The site's budgets page and approvals inbox (forms, no JavaScript needed). Governance
 * decides who may set, see or decide what; a refusal shows the page again with its words.
 */
export function mountBudgetPages(router: Router, deps: BudgetPagesDeps): void {
  const { budgets, runs, session, signedIn } = deps;
  const principalOf = (res: Response) => res.locals.principal as UserPrincipal;
  const doneOf = (req: Request): Notice | undefined => {
    const text = typeof req.query.done === "string" ? DONE[req.query.done] : undefined;
    return text ? { kind: "done", text } : undefined;
  };

  async function showBudgets(
    res: Response,
    extra: { notice?: Notice | undefined; draft?: Record<string, string | undefined> } = {},
    status = 200,
  ) {
    await deps.send(res, {
      title: "Budgets",
      section: "budgets",
      status,
      body: budgetsPage({
        budgets: await budgets.list(principalOf(res)),
        csrfToken: deps.csrfToken(res),
        ...extra,
      }),
    });
  }

  router.get("/budgets", ...session, signedIn, async (req, res) => {
    await showBudgets(res, { notice: doneOf(req) });
  });

  router.post("/budgets", ...session, signedIn, async (req, res) => {
    const form = req.body as Record<string, unknown>;
    try {
      await budgets.set(principalOf(res), {
        scope: field(form, "scope"),
        period: field(form, "period", 20),
        amount_usd: numberField(form, "amount_usd"),
        mode: field(form, "mode", 20),
      });
      res.redirect(303, "/budgets?done=saved");
    } catch (error) {
      if (!isSwitchboardError(error) || error.status >= 500) throw error;
      const draft = {
        scope: field(form, "scope"),
        period: field(form, "period", 20),
        amount_usd: field(form, "amount_usd", 50),
        mode: field(form, "mode", 20),
      };
      await showBudgets(
        res,
        { notice: { kind: "error", text: error.message }, draft },
        error.status,
      );
    }
  });

  router.post("/budgets/:id/delete", ...session, signedIn, async (req, res) => {
    try {
      await budgets.delete(principalOf(res), String(req.params.id));
      res.redirect(303, "/budgets?done=deleted");
    } catch (error) {
      if (!isSwitchboardError(error) || error.status >= 500) throw error;
      await showBudgets(res, { notice: { kind: "error", text: error.message } }, error.status);
    }
  });

  if (!runs) return;

  async function showApprovals(res: Response, notice?: Notice, status = 200) {
    await deps.send(res, {
      title: "Approvals",
      section: "approvals",
      status,
      body: approvalsPage({
        approvals: (await runs?.pendingApprovals(principalOf(res))) ?? [],
        csrfToken: deps.csrfToken(res),
        notice,
      }),
    });
  }

  router.get("/approvals", ...session, signedIn, async (req, res) => {
    await showApprovals(res, doneOf(req));
  });

  for (const decision of ["approve", "deny"] as const) {
    router.post(`/approvals/:id/${decision}`, ...session, signedIn, async (req, res) => {
      const form = req.body as Record<string, unknown>;
      try {
        const raise = decision === "approve" ? numberField(form, "raise_usd") : undefined;
        const result = await runs.decideApproval(principalOf(res), String(req.params.id), {
          decision,
          reason: field(form, "reason", 1000) || undefined,
          raiseUsd: raise as number | undefined,
        });
        if (!result.applied || !result.runMoved) {
          const text = !result.applied
            ? `This approval was already ${result.approval.status}; nothing changed.`
            : "The run was cancelled before your decision; nothing changed.";
          await showApprovals(res, { kind: "error", text }, 409);
          return;
        }
        res.redirect(303, `/approvals?done=${decision === "approve" ? "approved" : "denied"}`);
      } catch (error) {
        if (!isSwitchboardError(error) || error.status >= 500) throw error;
        await showApprovals(res, { kind: "error", text: error.message }, error.status);
      }
    });
  }
}
