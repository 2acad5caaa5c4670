import { badRequest } from "../../core/index.js";
import { parseScope, type SpendScope, scopeText } from "../ledger/scope.js";
import { type BudgetPeriod, PERIODS } from "./periods.js";

export const MODES = ["hard", "approval", "notify"] as const;
/** hard: refuse; approval: hold for an approver's yes; notify: run, and warn at thresholds. */
export type BudgetMode = (typeof MODES)[number];

export interface Budget {
  id: string;
  scope: string;
  period: BudgetPeriod;
  amountUsd: number;
  mode: BudgetMode;
  /** Percentages of the amount at which a notify budget warns. */
  thresholds: number[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface BudgetRequest {
  scope: SpendScope;
  period: BudgetPeriod;
  amountUsd: number;
  mode: BudgetMode;
  thresholds: number[];
}

export interface BudgetRow {
  id: string;
  scope: string;
  period: string;
  amount_usd: string | number;
  mode: string;
  thresholds: number[];
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export function budgetFromRow(row: BudgetRow): Budget {
  return {
    id: row.id,
    scope: row.scope,
    period: row.period as BudgetPeriod,
    amountUsd: Number(row.amount_usd),
    mode: row.mode as BudgetMode,
    thresholds: row.thresholds,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const MAX_AMOUNT_USD = 1_000_000_000;

/** A budget as the API, CLI and site send it (snake_case JSON), checked field by field. */
export function parseBudgetRequest(body: unknown): BudgetRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(
      'Send the budget as JSON: {"scope": "team:SLUG", "period": "month", "amount_usd": 25, "mode": "hard"}.',
    );
  }
  const b = body as Record<string, unknown>;
  const known = new Set(["scope", "period", "amount_usd", "mode", "thresholds"]);
  const unknown = Object.keys(b).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw badRequest(
      `Unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")}; a budget has scope, period, amount_usd, mode and, for notify, thresholds.`,
    );
  }
  const scope = parseScope(b.scope);
  if (!PERIODS.includes(b.period as BudgetPeriod)) {
    throw badRequest(
      `period must be one of ${PERIODS.map((p) => `"${p}"`).join(", ")}; got ${JSON.stringify(b.period ?? null)}.`,
    );
  }
  const amount = b.amount_usd;
  if (typeof amount !== "number" || !Number.isFinite(amount) || amount <= 0) {
    throw badRequest(
      `amount_usd must be a number of US dollars above 0; got ${JSON.stringify(amount ?? null)}.`,
    );
  }
  if (amount > MAX_AMOUNT_USD) throw badRequest(`amount_usd may be at most ${MAX_AMOUNT_USD}.`);
  if (!MODES.includes(b.mode as BudgetMode)) {
    throw badRequest(
      `mode must be "hard" (refuse runs over it), "approval" (an approver decides) or "notify" (warn); got ${JSON.stringify(b.mode ?? null)}.`,
    );
  }
  let thresholds = [50, 80, 100];
  if (b.thresholds !== undefined) {
    if (
      !Array.isArray(b.thresholds) ||
      b.thresholds.length === 0 ||
      b.thresholds.length > 10 ||
      !b.thresholds.every((t) => Number.isInteger(t) && t > 0 && t <= 1000)
    ) {
      throw badRequest(
        "thresholds must be a list of up to 10 whole percentages between 1 and 1000, e.g. [50, 80, 100].",
      );
    }
    thresholds = [...new Set(b.thresholds as number[])].sort((x, y) => x - y);
  }
  return {
    scope,
    period: b.period as BudgetPeriod,
    amountUsd: Math.round(amount * 1e8) / 1e8,
    mode: b.mode as BudgetMode,
    thresholds,
  };
}

export { scopeText };
