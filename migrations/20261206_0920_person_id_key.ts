import type { Knex } from "knex";

/**
 * The deployment's key for the opaque person ids runtimes receive (sessions/engine/
 * person-ids.ts): one row, 32 random bytes made on first use, so every process of a
 * deployment derives the same id for a person and no two deployments share one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("person_id_key", (t) => {
    t.smallint("id").primary().defaultTo(1);
    t.binary("key").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.raw("now()"));
  });
  await knex.raw("alter table person_id_key add constraint person_id_key_one_row check (id = 1)");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("person_id_key");
}
