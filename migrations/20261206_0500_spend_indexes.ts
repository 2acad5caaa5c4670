import type { Knex } from "knex";

/**
 * Spend views (governance/spend) read a range of days of the ledger and group it by team,
 * person, agent, runtime or model. This index holds every column they read, in day order,
 * so a month of a year's rows is read from the index alone (an index-only scan, no visit to
 * the table for each row: a third off a month's query in bench/governance-spend). It
 * replaces the plain `occurred_at` index, which it serves in full (same leading column), so
 * the ledger's writes keep one index on the day rather than two; while both existed the
 * planner kept taking the smaller, plain one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `create index ledger_spend_index on ledger (occurred_at)
      include (cost_usd, agent_id, user_id, team_id, run_id, runtime, model)`,
  );
  await knex.raw("drop index if exists ledger_occurred_at_index");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("create index if not exists ledger_occurred_at_index on ledger (occurred_at)");
  await knex.raw("drop index if exists ledger_spend_index");
}
