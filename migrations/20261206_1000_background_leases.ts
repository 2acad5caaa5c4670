import type { Knex } from "knex";

/**
 * Leases for jobs one process of a deployment runs at a time (the sandbox sweeper): a row
 * per job, held by a worker until it lapses. A worker killed while holding one stops
 * renewing it, and another takes the job once it has lapsed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("background_leases", (t) => {
    t.text("name").primary();
    t.text("owner").notNullable();
    t.timestamp("expires_at", { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("background_leases");
}
