import type { Knex } from "knex";

/**
 * Spend views (governance/spend) read a range of days of the ledger and group it by team,
 * person, agent, runtime or model. This index holds every column they read, in day order,
 * so a month of a year's rows is read from the index alone (an index-only scan), without a
 * visit to the table for each row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `create index ledger_spend_index on ledger (occurred_at)
      include (cost_usd, agent_id, user_id, team_id, run_id, runtime, model)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists ledger_spend_index");
}
