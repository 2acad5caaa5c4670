import type { BetaManagedAgentsBudgetLimit } from "@anthropic-ai/sdk/resources/beta/sessions/sessions";
import { formatUsd } from "../../core/index.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { RUNTIME_NAME } from "./errors.js";
import { minorUnits } from "./list-cost.js";

/**
 * Claude Managed Agents' own spending cap, set from the agent's `max_cost_usd_per_run`.
 *
 * A Managed Agents session spans every run of a Switchboard session (a Slack thread), and
 * its budget caps the session's whole list cost, not one turn's. So each turn moves the
 * cap to what the session has spent so far plus this run's limit: the runtime then stops
 * the agent (idle, `budget_reached`) once this run alone has spent its limit, between two
 * model requests. Switchboard's own cost watch still holds the run too (it also counts what
 * earlier tries of the same run spent); this cap is the one that acts inside the runtime.
 *
 * The API takes the cap only at creation, and changes or removes it later
 * (`sessions.update`); a session created without one (before its agent had a limit) cannot
 * be given one, and keeps running under Switchboard's watch alone.
 */

/** The cap as the API takes it: whole US cents, written as a string. */
export function budgetLimit(cents: number): BetaManagedAgentsBudgetLimit {
  return { type: "limit", max_list_cost: { amount: String(cents), currency: "USD" } };
}

/**
 * The session's cap for a turn: its list cost so far (cents) plus the run's limit, rounded
 * up to a whole cent. At least a cent above what was spent, since the API refuses a cap at
 * or below the session's consumed list cost (`budget_not_raised`).
 */
export function sessionBudgetCents(spentCents: number, limitUsd: number): number {
  return spentCents + Math.max(1, Math.ceil(limitUsd * 100 - 1e-9));
}

/**
 * What a session's budget must become for this turn: a new cap, `null` (the agent no longer
 * sets a limit: the cap goes), or undefined when nothing changes or nothing can.
 */
export function budgetUpdate(
  current: BetaManagedAgentsBudgetLimit | null | undefined,
  spentCents: number,
  limitUsd: number | undefined,
): BetaManagedAgentsBudgetLimit | null | undefined {
  if (!current) return undefined; // none to change, and none may be added
  if (limitUsd === undefined) return null;
  const wanted = sessionBudgetCents(spentCents, limitUsd);
  return minorUnits(current.max_list_cost) === wanted ? undefined : budgetLimit(wanted);
}

/** The run failed because the session reached its cap: `cost_limit`, in words. */
export function budgetReachedError(limit?: { agentName: string; usd: number }): RuntimeError {
  const what = limit
    ? `the ${formatUsd(limit.usd)} "${limit.agentName}" may spend on one run (max_cost_usd_per_run)`
    : "the spending limit Switchboard set for it";
  return new RuntimeError(
    RUNTIME_ERROR_CODES.costLimit,
    `The run was stopped: it reached ${what}, and ${RUNTIME_NAME} stopped the agent there.`,
  );
}
