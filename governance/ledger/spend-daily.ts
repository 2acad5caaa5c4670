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

/** A key of the rollup whose cost differs from the ledger's sum for it. */
export interface SpendDailyDrift {
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

/**
 * Every key where the rollup and the ledger disagree (none, unless someone went around the
 * trigger): for tests and for an operator who doubts a figure. It reads the whole ledger.
 */
export async function spendDailyDrift(knex: Knex): Promise<SpendDailyDrift[]> {
  const result = await knex.raw(`
    with booked as (
      select (occurred_at at time zone 'UTC')::date as day, team_id, user_id, agent_id,
             runtime, model, run_id, sum(cost_usd) as cost
        from ledger group by 1, 2, 3, 4, 5, 6, 7
    )
    select coalesce(b.day, s.day)::text as day,
           coalesce(b.team_id, s.team_id) as team_id, coalesce(b.user_id, s.user_id) as user_id,
           coalesce(b.agent_id, s.agent_id) as agent_id, coalesce(b.runtime, s.runtime) as runtime,
           coalesce(b.model, s.model) as model, coalesce(b.run_id, s.run_id) as run_id,
           b.cost::text as ledger_usd, s.cost_usd::text as rollup_usd
      from booked b
      full join spend_daily s
        on s.day = b.day
       and s.team_id is not distinct from b.team_id and s.user_id is not distinct from b.user_id
       and s.agent_id is not distinct from b.agent_id and s.runtime is not distinct from b.runtime
       and s.model is not distinct from b.model and s.run_id is not distinct from b.run_id
     where b.cost is distinct from s.cost_usd`);
  return (result.rows as Record<string, string | null>[]).map((row) => ({
    day: String(row.day),
    teamId: row.team_id ?? null,
    userId: row.user_id ?? null,
    agentId: row.agent_id ?? null,
    runtime: row.runtime ?? null,
    model: row.model ?? null,
    runId: row.run_id ?? null,
    ledgerUsd: row.ledger_usd ?? null,
    rollupUsd: row.rollup_usd ?? null,
  }));
}
