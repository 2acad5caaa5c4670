import type { Knex } from "knex";

/**
 * `spend_daily`: the ledger summed per UTC day × team × person × agent × runtime × model ×
 * run (migration 20261206_0700_spend_daily says why the run is in the key and why a trigger
 * keeps it). governance/ledger owns it with the ledger: nothing else writes it, the spend
 * views read it instead of the ledger's rows.
 *
 * Its columns mean what the ledger's do (`team_id` is the team booked on the row, null when
 * the writer did not know it; the views fall back to the agent's owning team when they read,
 * so a change of owner moves past spend the same as it did when they read the ledger).
 */
export const SPEND_DAILY = "spend_daily";
/** The same without runtime and model: one row per run a day, for views by team, person or agent. */
export const SPEND_DAILY_RUNS = "spend_daily_runs";

/** A key of a rollup whose cost differs from the ledger's sum for it. */
export interface SpendDailyDrift {
  table: "spend_daily" | "spend_daily_runs";
  day: string;
  teamId: string | null;
  userId: string | null;
  agentId: string | null;
  runtime: string | null;
  model: string | null;
  runId: string | null;
  ledgerUsd: string | null;
  rollupUsd: string | null;
}

const KEYS = {
  spend_daily: ["team_id", "user_id", "agent_id", "runtime", "model", "run_id"],
  spend_daily_runs: ["team_id", "user_id", "agent_id", "run_id"],
} as const;

/**
 * Every key where a rollup and the ledger disagree (none, unless someone went around the
 * trigger): for tests and for an operator who doubts a figure. It reads the whole ledger.
 */
export async function spendDailyDrift(knex: Knex): Promise<SpendDailyDrift[]> {
  const drift: SpendDailyDrift[] = [];
  for (const [table, keys] of Object.entries(KEYS) as [
    SpendDailyDrift["table"],
    readonly string[],
  ][]) {
    const result = await knex.raw(`
      with booked as (
        select (occurred_at at time zone 'UTC')::date as day, ${keys.join(", ")},
               sum(cost_usd) as cost
          from ledger group by ${keys.map((_, i) => i + 1).join(", ")}, ${keys.length + 1}
      )
      select coalesce(b.day, s.day)::text as day,
             ${keys.map((k) => `coalesce(b.${k}, s.${k}) as ${k}`).join(", ")},
             b.cost::text as ledger_usd, s.cost_usd::text as rollup_usd
        from booked b
        full join ${table} s
          on s.day = b.day and ${keys.map((k) => `s.${k} is not distinct from b.${k}`).join(" and ")}
       where b.cost is distinct from s.cost_usd`);
    for (const row of result.rows as Record<string, string | null>[]) {
      drift.push({
        table,
        day: String(row.day),
        teamId: row.team_id ?? null,
        userId: row.user_id ?? null,
        agentId: row.agent_id ?? null,
        runtime: row.runtime ?? null,
        model: row.model ?? null,
        runId: row.run_id ?? null,
        ledgerUsd: row.ledger_usd ?? null,
        rollupUsd: row.rollup_usd ?? null,
      });
    }
  }
  return drift;
}
