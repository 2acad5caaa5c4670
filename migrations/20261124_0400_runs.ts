import type { Knex } from "knex";

/**
 * The runs engine. A session is drained by one worker at a time, which holds the session's
 * lease (renewed while it works; a worker killed mid-run lets it lapse and another takes
 * over), so the turns of one conversation run one at a time, in order. A cancel asked of a
 * running run is recorded on it, so whichever worker holds it sees the request.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("sessions", (t) => {
    t.text("lease_owner");
    t.timestamp("lease_expires_at", { useTz: true });
  });
  await knex.schema.alterTable("runs", (t) => {
    t.text("surface").notNullable().defaultTo("api");
    t.text("runtime"); // the runtime type the agent had when the run was asked for
    t.timestamp("cancel_requested_at", { useTz: true });
  });
  // The order runs were asked for: turns of a session run in this order (timestamps can tie).
  await knex.raw("alter table runs add column enqueued_seq bigserial");
  // What the sweeper and the drainers ask: the unfinished runs of a session, oldest first.
  await knex.raw(
    `create index runs_unfinished_session_index on runs (session_id, enqueued_seq)
      where status in ('queued', 'running')`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists runs_unfinished_session_index");
  await knex.schema.alterTable("runs", (t) => {
    t.dropColumn("enqueued_seq");
    t.dropColumn("cancel_requested_at");
    t.dropColumn("runtime");
    t.dropColumn("surface");
  });
  await knex.schema.alterTable("sessions", (t) => {
    t.dropColumn("lease_expires_at");
    t.dropColumn("lease_owner");
  });
}
