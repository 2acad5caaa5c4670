import type { Knex } from "knex";

/**
 * The model proxy: a proxy reads a key's spend so far from the ledger when it first sees
 * the key (budgets), so the ledger is indexed by key.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("ledger", (t) => {
    t.index(["api_key_id", "occurred_at"], "ledger_api_key_id_occurred_at_index");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("ledger", (t) => {
    t.dropIndex(["api_key_id", "occurred_at"], "ledger_api_key_id_occurred_at_index");
  });
}
