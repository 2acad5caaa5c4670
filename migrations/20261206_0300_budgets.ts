import type { Knex } from "knex";

/**
 * Budgets, as governance/budgets holds them. The first cut's `budgets` and `approvals`
 * tables were never written to; they are replaced (approvals come back in 20261206_0400).
 * - budgets: one per scope (`team:SLUG`, `agent:NAME`, `user:EMAIL`, `platform`) and
 *   period; what happens past it is its mode; notify budgets remember the highest
 *   threshold already announced in the current period.
 * - budget_reservations: what runs in flight hold against a budget (the agent's per-run
 *   limit or an estimate), so runs admitted together cannot overspend; released when the
 *   run ends, and expiring in case a process died between admitting and creating the run.
 * - budget_raises: an approver's raise of a budget for one period.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("approvals");
  await knex.schema.dropTableIfExists("budgets");
  await knex.schema.createTable("budgets", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("scope").notNullable();
    t.text("period").notNullable();
    t.decimal("amount_usd", 18, 8).notNullable();
    t.text("mode").notNullable();
    t.jsonb("thresholds").notNullable().defaultTo("[50,80,100]");
    t.timestamp("warned_period", { useTz: true });
    t.integer("warned_percent");
    t.text("created_by").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.raw("now()"));
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.raw("now()"));
    t.unique(["scope", "period"]);
  });
  await knex.raw(
    "alter table budgets add constraint budgets_period_check check (period in ('day', 'week', 'month', 'none'))",
  );
  await knex.raw(
    "alter table budgets add constraint budgets_mode_check check (mode in ('hard', 'approval', 'notify'))",
  );
  await knex.schema.createTable("budget_reservations", (t) => {
    t.bigIncrements("id");
    t.uuid("budget_id").notNullable().references("budgets.id").onDelete("CASCADE");
    t.uuid("run_id").notNullable();
    t.decimal("amount_usd", 18, 8).notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.raw("now()"));
    t.timestamp("expires_at", { useTz: true }).notNullable();
    t.index(["budget_id"]);
    t.index(["run_id"]);
  });
  await knex.schema.createTable("budget_raises", (t) => {
    t.bigIncrements("id");
    t.uuid("budget_id").notNullable().references("budgets.id").onDelete("CASCADE");
    t.timestamp("period_start", { useTz: true });
    t.decimal("amount_usd", 18, 8).notNullable();
    t.text("raised_by").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.raw("now()"));
    t.index(["budget_id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("budget_raises");
  await knex.schema.dropTableIfExists("budget_reservations");
  await knex.schema.dropTableIfExists("budgets");
}
