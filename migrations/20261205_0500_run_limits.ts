import type { Knex } from "knex";

/**
 * Runs in progress are limited per person and per agent (RUN_MAX_PER_USER,
 * RUN_MAX_PER_AGENT), counted here across every worker.
 * - runs.waiting_since / waiting_reason: a queued run that found its person or agent at the
 *   limit waits without holding a worker; these mark it (and what it was last told), so a
 *   freed place goes to whoever has waited longest, and the sweeper leaves it alone until
 *   it fits.
 * - the running runs of a person or an agent are what every claim counts, under a lock.
 * - api_keys: a run's keys still live, so a recovered run revokes the ones an attempt
 *   whose worker died left behind (the table has a key per attempt of every run).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("runs", (t) => {
    t.timestamp("waiting_since", { useTz: true });
    t.text("waiting_reason");
  });
  await knex.raw("create index runs_running_user_index on runs (user_id) where status = 'running'");
  await knex.raw(
    "create index runs_running_agent_index on runs (agent_id) where status = 'running'",
  );
  await knex.raw(
    `create index runs_waiting_index on runs (enqueued_seq)
      where status = 'queued' and waiting_since is not null`,
  );
  await knex.raw(
    `create index api_keys_live_run_index on api_keys (run_id)
      where run_id is not null and revoked_at is null`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists api_keys_live_run_index");
  await knex.raw("drop index if exists runs_waiting_index");
  await knex.raw("drop index if exists runs_running_agent_index");
  await knex.raw("drop index if exists runs_running_user_index");
  await knex.schema.alterTable("runs", (t) => {
    t.dropColumn("waiting_reason");
    t.dropColumn("waiting_since");
  });
}
