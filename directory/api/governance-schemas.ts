import { z } from "zod";
import type { Approval, BudgetReport } from "../../governance/index.js";

/** Budgets' and approvals' wire shapes. */

const timestamp = z.string().describe("ISO 8601 date and time, UTC");

export const budgetIdParams = z.object({ id: z.string().max(100) });
export const approvalIdParams = z.object({ id: z.string().max(100) });

export const budgetBody = z.object({
  scope: z.string().describe('"team:SLUG", "agent:NAME", "user:EMAIL" or "platform"'),
  period: z.enum(["day", "week", "month", "none"]).describe("UTC periods; none: in total"),
  amount_usd: z.number().positive(),
  mode: z
    .enum(["hard", "approval", "notify"])
    .describe("hard: refuse runs over it; approval: an approver decides; notify: warn"),
  thresholds: z
    .array(z.number().int())
    .optional()
    .describe("notify: percentages to warn at (default 50, 80, 100)"),
});

export const budgetResponse = z.object({
  id: z.string(),
  scope: z.string(),
  period: z.string(),
  amount_usd: z.number(),
  mode: z.string(),
  thresholds: z.array(z.number()),
  spent_usd: z.number().describe("Booked to the scope in the current period"),
  reserved_usd: z.number().describe("Held by runs in progress"),
  limit_usd: z.number().describe("The amount plus approvers' raises for this period"),
  created_by: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const budgetList = z.object({ items: z.array(budgetResponse) });

export const decisionBody = z.object({
  reason: z.string().max(1000).optional(),
  raise_usd: z
    .number()
    .positive()
    .optional()
    .describe("Approve only: raise the budget by this much for the current period"),
});

export const approvalResponse = z.object({
  id: z.string(),
  run_id: z.string(),
  status: z.enum(["pending", "approved", "denied", "expired", "cancelled"]),
  budget_scope: z.string(),
  requested_by: z.string().describe("The person's email"),
  agent: z.string(),
  summary: z.string().describe("The request's first words"),
  spent_usd: z.number(),
  limit_usd: z.number(),
  estimate_usd: z.number(),
  decided_by: z.string().nullable(),
  decided_at: timestamp.nullable(),
  reason: z.string().nullable(),
  raised_usd: z.number().nullable(),
  created_at: timestamp,
  expires_at: timestamp,
});

export const approvalList = z.object({ items: z.array(approvalResponse) });

export function presentBudget(budget: BudgetReport): z.infer<typeof budgetResponse> {
  return {
    id: budget.id,
    scope: budget.scope,
    period: budget.period,
    amount_usd: budget.amountUsd,
    mode: budget.mode,
    thresholds: budget.thresholds,
    spent_usd: budget.spentUsd,
    reserved_usd: budget.reservedUsd,
    limit_usd: budget.limitUsd,
    created_by: budget.createdBy,
    created_at: budget.createdAt.toISOString(),
    updated_at: budget.updatedAt.toISOString(),
  };
}

export function presentApproval(approval: Approval): z.infer<typeof approvalResponse> {
  return {
    id: approval.id,
    run_id: approval.runId,
    status: approval.status,
    budget_scope: approval.budgetScope,
    requested_by: approval.requesterEmail,
    agent: approval.agentName,
    summary: approval.summary,
    spent_usd: approval.spentUsd,
    limit_usd: approval.limitUsd,
    estimate_usd: approval.estimateUsd,
    decided_by: approval.decidedBy,
    decided_at: approval.decidedAt ? approval.decidedAt.toISOString() : null,
    reason: approval.reason,
    raised_usd: approval.raisedUsd,
    created_at: approval.createdAt.toISOString(),
    expires_at: approval.expiresAt.toISOString(),
  };
}
