import type { Knex } from "knex";

/**
 * Chat surfaces (Slack now, Teams later).
 * - chat_deliveries: one row per incoming message handled, so a platform's retries and its
 *   double deliveries (Slack sends a mention as `app_mention` and as `message`) are handled
 *   once, whichever process receives them.
 * - chat_replies: where a run's answer goes (a Slack thread) and how far it got, so the
 *   replies a web process had in hand when it stopped are finished by the next one.
 * - chat_actions: what an interactive button stands for; buttons carry only this row's id.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("chat_deliveries", (t) => {
    t.text("surface").notNullable();
    t.text("delivery_key").notNullable();
    t.timestamp("received_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(["surface", "delivery_key"]);
    t.index(["received_at"]);
  });
  await knex.schema.createTable("chat_replies", (t) => {
    t.uuid("run_id").primary().references("runs.id").onDelete("CASCADE");
    t.text("surface").notNullable();
    t.jsonb("target").notNullable(); // e.g. { team, channel, thread_ts, user }
    t.jsonb("progress").notNullable().defaultTo("{}"); // e.g. { message_ts, streaming }
    t.text("state").notNullable().defaultTo("pending"); // pending | done
    // The web process replying holds a lease; a reply whose process died is taken over.
    t.text("owner");
    t.timestamp("lease_expires_at", { useTz: true });
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "create index chat_replies_pending_index on chat_replies (created_at) where state = 'pending'",
  );
  await knex.schema.createTable("chat_actions", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("surface").notNullable();
    t.text("kind").notNullable(); // run_agent | approve_budget | …
    t.jsonb("payload").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("used_at", { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("chat_actions");
  await knex.schema.dropTable("chat_replies");
  await knex.schema.dropTable("chat_deliveries");
}
