import { badRequest, conflict } from "../../core/index.js";
import type { Budgets } from "../../governance/index.js";
import type { RunsService } from "../../sessions/index.js";
import {
  approvalIdParams,
  approvalList,
  approvalResponse,
  budgetBody,
  budgetIdParams,
  budgetList,
  budgetResponse,
  decisionBody,
  presentApproval,
  presentBudget,
} from "./governance-schemas.js";
import { defineRoute, type Route } from "./route-table.js";

/**
 * Budgets and approvals under /api/v1: thin over governance's `Budgets` (who may manage
 * which budget) and the runs service's approval decisions (who may decide, once).
 */
export function budgetRoutes(budgets: Budgets): Route[] {
  return [
    defineRoute({
      method: "post",
      path: "/budgets",
      operationId: "setBudget",
      summary: "Set a budget for a team, an agent, a person or the platform",
      description:
        "Platform admins set any budget; a team's admins their team's. The same scope and period again replaces the amount and mode (200).",
      authenticated: true,
      body: budgetBody,
      response: { status: 201, description: "The budget, created", schema: budgetResponse },
      errors: [400, 403],
      async handle({ principal, body, requestId }) {
        const { budget, created } = await budgets.set(principal, body, requestId);
        return {
          status: created ? 201 : 200,
          body: presentBudget(await budgets.get(principal, budget.id)),
        };
      },
    }),
    defineRoute({
      method: "get",
      path: "/budgets",
      operationId: "listBudgets",
      summary: "The budgets the caller may see, with spend so far this period",
      authenticated: true,
      response: { status: 200, description: "Budgets", schema: budgetList },
      errors: [],
      async handle({ principal }) {
        return { body: { items: (await budgets.list(principal)).map(presentBudget) } };
      },
    }),
    defineRoute({
      method: "delete",
      path: "/budgets/{id}",
      operationId: "deleteBudget",
      summary: "Delete a budget",
      authenticated: true,
      params: budgetIdParams,
      response: { status: 204, description: "Deleted" },
      errors: [403, 404],
      async handle({ principal, params, requestId }) {
        await budgets.delete(principal, params.id, requestId);
        return { status: 204 };
      },
    }),
  ];
}

export function approvalRoutes(runs: RunsService): Route[] {
  const decide = (decision: "approve" | "deny") =>
    defineRoute({
      method: "post",
      path: `/approvals/{id}/${decision}`,
      operationId: `${decision}Approval`,
      summary:
        decision === "approve"
          ? "Approve a run held by an approval budget: it starts"
          : "Deny a run held by an approval budget: it fails with your reason",
      description:
        "Needs the right to approve the budget's overruns (a team's budget approvers and admins, platform admins). A decision counts once: deciding again answers 409 with the decision that stands.",
      authenticated: true,
      params: approvalIdParams,
      body: decisionBody,
      response: { status: 200, description: "The approval, decided", schema: approvalResponse },
      errors: [400, 403, 404, 409],
      async handle({ principal, params, body }) {
        const parsed = decisionBody.safeParse(body ?? {});
        if (!parsed.success) {
          throw badRequest(
            `Send {"reason": "…optional"}${decision === "approve" ? ' or {"raise_usd": 10}' : ""}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
          );
        }
        const result = await runs.decideApproval(principal, params.id, {
          decision,
          reason: parsed.data.reason,
          raiseUsd: parsed.data.raise_usd,
        });
        if (!result.applied) {
          const by = result.approval.decidedBy?.replace(/^user:/, "");
          throw conflict(
            `This approval was already ${result.approval.status}${by ? ` by ${by}` : ""}; nothing changed.`,
            { status: result.approval.status },
          );
        }
        if (!result.runMoved) {
          throw conflict("The run was cancelled before this decision; nothing changed.", {
            status: result.approval.status,
          });
        }
        return { body: presentApproval(result.approval) };
      },
    });
  return [
    defineRoute({
      method: "get",
      path: "/approvals",
      operationId: "listApprovals",
      summary: "Pending approvals the caller may decide",
      authenticated: true,
      response: {
        status: 200,
        description: "Pending approvals, oldest first",
        schema: approvalList,
      },
      errors: [],
      async handle({ principal }) {
        return { body: { items: (await runs.pendingApprovals(principal)).map(presentApproval) } };
      },
    }),
    decide("approve"),
    decide("deny"),
  ];
}

export const governanceSchemas = {
  input: { BudgetInput: budgetBody, ApprovalDecision: decisionBody },
  output: { Budget: budgetResponse, Approval: approvalResponse },
};
