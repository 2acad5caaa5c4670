import type { Knex } from "knex";
import { type SpendScope, whereInScope } from "./scope.js";

/**
 * The ledger's running totals (migration 20261206_0900_spend_totals says why each exists and
 * what "runs" means in them), kept by a statement trigger on the ledger's inserts in the
 * insert's own transaction: a committed ledger row is always counted, an aborted one never.
 * governance/ledger owns them with the ledger: nothing else writes them. Budgets read
 * `spend_daily_agents` and `spend_daily_users` (see `totalSpendQuery`), the spend views read
 * whichever of the three holds every column a request reads.
 *
 * Their columns mean what the ledger's do (`team_id` is the team booked on the row, null when
 * the writer did not know it; readers fall back to the agent's owning team, so a change of
 * owner moves past spend the same as it does in the ledger).
 */
export const SPEND_TOTALS = {
  /** Day × team × person × agent × runtime × model. */
  full: "spend_daily",
  /** Day × agent × booked team. */
  agents: "spend_daily_agents",
  /** Day × person. */
  users: "spend_daily_users",
} as const;

/** Each total's key columns (all but the day are nullable and compared as equal when null). */
const KEYS: Record<string, readonly string[]> = {
  spend_daily: ["day", "team_id", "user_id", "agent_id", "runtime", "model"],
  spend_daily_agents: ["day", "agent_id", "team_id"],
  spend_daily_users: ["day", "user_id"],
};

/**
 * The spend of a scope in [from, to) from the running totals, as one query (`total`) to run
 * alone or as a subquery; the same figure `spendQuery` sums from the ledger's rows. Budget
 * periods start and end at UTC midnight, so whole days of the totals make them up: a month is
 * at most 31 rows a person, or a row a day for each agent (and each team booked with it).
 */
export function totalSpendQuery(
  knex: Knex,
  query: { scope: SpendScope; from?: Date | undefined; to?: Date | undefined },
): Knex.QueryBuilder {
  const { scope } = query;
  const table = scope.type === "user" ? SPEND_TOTALS.users : SPEND_TOTALS.agents;
  const sql = knex(table).select(knex.raw("coalesce(sum(cost_usd), 0) as total"));
  if (query.from) sql.where("day", ">=", dayOf(query.from));
  if (query.to) sql.where("day", "<", dayOf(query.to));
  // The totals carry the ledger's user, agent and team columns: the same scope rules read them.
  whereInScope(knex, sql, scope);
  return sql;
}

/** A UTC midnight as the date the totals are keyed by. */
function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** A key where a running total differs from what the ledger's rows add up to. */
export interface SpendTotalsDrift {
  table: string;
  key: Record<string, string | null>;
  ledgerUsd: string | null;
  totalUsd: string | null;
  ledgerRuns: number;
  totalRuns: number;
}

/**
 * Every key where a running total and the ledger disagree (none, unless someone went around
 * the trigger): cost against the ledger's rows, runs against the runs counted (`spend_runs`,
 * itself checked to hold each run of the ledger once, at one of its rows). For tests and for
 * an operator who doubts a figure; it reads the whole ledger.
 */
export async function spendTotalsDrift(knex: Knex): Promise<SpendTotalsDrift[]> {
  const drift: SpendTotalsDrift[] = [];
  const runs = await knex.raw(`
    select coalesce(l.run_id, c.run_id)::text as run_id, (b.id is not null)::int as counted,
           (l.run_id is not null)::int as booked
      from (select distinct run_id from ledger where run_id is not null) l
      full join spend_runs c on c.run_id = l.run_id
      left join ledger b on b.id = c.ledger_id and b.run_id = c.run_id
     where l.run_id is null or b.id is null`);
  // A run booked but not counted, or counted at a row that is not one of its own.
  for (const row of runs.rows as { run_id: string; counted: number; booked: number }[]) {
    drift.push({
      table: "spend_runs",
      key: { run_id: row.run_id },
      ledgerUsd: null,
      totalUsd: null,
      ledgerRuns: Number(row.booked),
      totalRuns: Number(row.counted),
    });
  }
  for (const [table, key] of Object.entries(KEYS)) {
    const columns = key.join(", ");
    // The day is never null: its plain equality lets PostgreSQL hash the full join.
    const same = key
      .map((k) => (k === "day" ? "t.day = b.day" : `t.${k} is not distinct from b.${k}`))
      .join(" and ");
    const result = await knex.raw(`
      with parts as (
        select (occurred_at at time zone 'UTC')::date as day, team_id, user_id, agent_id,
               runtime, model, cost_usd as cost, 0 as runs
          from ledger
        union all
        select (b.occurred_at at time zone 'UTC')::date, b.team_id, b.user_id, b.agent_id,
               c.runtime, b.model, 0, 1
          from ledger b join spend_runs c on c.run_id = b.run_id and c.ledger_id = b.id
      ),
      booked as (select ${columns}, sum(cost) as cost, sum(runs) as runs from parts group by ${columns})
      select ${key.map((k) => `coalesce(b.${k}, t.${k})::text as ${k}`).join(", ")},
             b.cost::text as ledger_usd, t.cost_usd::text as total_usd,
             coalesce(b.runs, 0)::int as ledger_runs, coalesce(t.runs, 0)::int as total_runs
        from booked b full join ${table} t on ${same}
       where b.cost is distinct from t.cost_usd or coalesce(b.runs, 0) <> coalesce(t.runs, 0)`);
    for (const row of result.rows as Record<string, string | number | null>[]) {
      drift.push({
        table,
        key: Object.fromEntries(key.map((k) => [k, row[k] === null ? null : String(row[k])])),
        ledgerUsd: (row.ledger_usd as string | null) ?? null,
        totalUsd: (row.total_usd as string | null) ?? null,
        ledgerRuns: Number(row.ledger_runs),
        totalRuns: Number(row.total_runs),
      });
    }
  }
  return drift;
}
