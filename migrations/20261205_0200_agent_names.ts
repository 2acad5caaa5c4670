import type { Knex } from "knex";

/**
 * A name belongs to one live agent at a time, not for ever. A retired agent keeps its row
 * (its runs, sessions and spend point at its id) and its name; someone else may then
 * register a new agent, with a new id and no history, under the same name. So the unique
 * constraint on `agents.name` becomes a unique index over live agents only, which also
 * serves the catalog's paging by name (it replaces the plain index on live names).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("alter table agents drop constraint if exists agents_name_unique");
  await knex.raw(
    "create unique index agents_live_name_unique on agents (name) where retired_at is null",
  );
  await knex.raw("drop index if exists agents_live_name_index");
  // Finding a name's retired agents (restore, history) without a scan.
  await knex.raw("create index agents_name_retired_index on agents (name, retired_at desc)");
}

/** Fails while two agents share a name (a retired one and its successor): retire or rename first. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists agents_name_retired_index");
  await knex.raw("create index agents_live_name_index on agents (name) where retired_at is null");
  await knex.raw("drop index if exists agents_live_name_unique");
  await knex.raw("alter table agents add constraint agents_name_unique unique (name)");
}
