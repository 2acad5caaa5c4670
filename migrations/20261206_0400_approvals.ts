import type { Knex } from "knex";

/**
 * Approvals of runs that would take an `approval` budget past its amount
 * (governance/approvals). A decision moves `status` from pending exactly once; the run
 * names its pending approval in `runs.approval_id`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("approvals", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.uuid("run_id").notNullable().references("runs.id").onDelete("CASCADE");
    t.uuid("budget_id").references("budgets.id").onDelete("SET NULL");
    t.text("budget_scope").notNullable();
    t.uuid("requested_by").notNullable().references("users.id");
    t.text("requester_email").notNullable();
    t.text("agent_name").notNullable();
    t.text("summary").notNullable();
    t.decimal("spent_usd", 18, 8).notNullable();
    t.decimal("limit_usd", 18, 8).notNullable();
    t.decimal("estimate_usd", 18, 8).notNullable();
    t.text("status").notNullable().defaultTo("pending");
    t.text("decided_by");
    t.timestamp("decided_at", { useTz: true });
    t.text("reason");
    t.decimal("raised_usd", 18, 8);
    t.jsonb("notified").notNullable().defaultTo("[]");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.raw("now()"));
    t.timestamp("expires_at", { useTz: true }).notNullable();
    t.index(["status", "expires_at"]);
    t.index(["run_id"]);
  });
  await knex.raw(
    `alter table approvals add constraint approvals_status_check check (status in
      ('pending', 'approved', 'denied', 'expired', 'cancelled'))`,
  );
  await knex.schema.alterTable("runs", (t) => {
    t.uuid("approval_id");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("runs", (t) => {
    t.dropColumn("approval_id");
  });
  await knex.schema.dropTableIfExists("approvals");
}
