import type { Knex } from "knex";

/**
 * Requests for the right to run an agent (directory/access-requests): filed by someone who
 * may see the agent but not run it, decided once by one of its owners. At most one pending
 * request per person and agent (a partial unique index), so a second click finds the first.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("access_requests", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.uuid("user_id").notNullable().references("users.id").onDelete("CASCADE");
    t.text("requester_email").notNullable();
    t.text("agent_name").notNullable();
    t.text("reason").notNullable();
    t.text("status").notNullable().defaultTo("pending");
    t.text("grant_target");
    t.text("decided_by");
    t.timestamp("decided_at", { useTz: true });
    t.text("decision_reason");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.raw("now()"));
    t.index(["status", "agent_name"]);
  });
  await knex.raw(
    `alter table access_requests add constraint access_requests_status_check
      check (status in ('pending', 'approved', 'denied'))`,
  );
  await knex.raw(
    `create unique index access_requests_one_pending on access_requests (user_id, agent_name)
      where status = 'pending'`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("access_requests");
}
