import type { Knex } from "knex";
import { Ledger } from "../../governance/index.js";

export interface MonthlySpend {
  /** Midnight UTC on the first of the month. */
  since: Date;
  costUsd: number;
  runs: number;
}

/** Midnight UTC on the first of `now`'s month: the same month for every viewer, as on the site. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/**
 * What a person spent this month and how many runs they asked for. Spend comes from the
 * ledger (it also holds model calls made through the proxy on their behalf, so it is the
 * fuller figure); runs from `runs`. (directory/usage answers per agent, not per person.)
 */
export async function monthlySpend(
  knex: Knex,
  userId: string,
  now = new Date(),
): Promise<MonthlySpend> {
  const since = monthStart(now);
  const [costUsd, runs] = await Promise.all([
    new Ledger(knex).userSpendSince(userId, since),
    knex("runs")
      .where("user_id", userId)
      .andWhere("created_at", ">=", since)
      .count({ runs: "*" })
      .first(),
  ]);
  return { since, costUsd, runs: Number(runs?.runs ?? 0) };
}
