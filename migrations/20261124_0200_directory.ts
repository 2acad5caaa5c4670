import type { Knex } from "knex";

/**
 * The agent directory: the catalog filters by lifecycle and by tag (tags are a jsonb list,
 * so a GIN index answers `tags ? 'support'`) and pages through live agents by name.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("agents", (t) => {
    t.index(["lifecycle"], "agents_lifecycle_index");
  });
  await knex.raw("create index agents_tags_index on agents using gin (tags)");
  await knex.raw("create index agents_live_name_index on agents (name) where retired_at is null");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists agents_live_name_index");
  await knex.raw("drop index if exists agents_tags_index");
  await knex.schema.alterTable("agents", (t) => {
    t.dropIndex(["lifecycle"], "agents_lifecycle_index");
  });
}
