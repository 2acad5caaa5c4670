import type { Knex } from "knex";

/**
 * The ledger's daily rollup, owned by governance/ledger (see spend-daily.ts there): one row
 * per UTC day × team × person × agent × runtime × model × run, with the cost booked to it.
 *
 * Why the run is part of the key: the spend views count distinct runs per group, and a
 * distinct count cannot be added up across days or across the dimensions a query folds
 * together (one run's runtime row and proxy rows can carry different models, or land on two
 * days). With the run in the key every ledger row falls in exactly one rollup row that keeps
 * every column a filter, a group or the scope reads, so `sum(cost_usd)` and
 * `count(distinct run_id)` over the rollup equal the same over the ledger for every group_by,
 * filter and scope. A run's rows for a day and set of dimensions become one: a run making
 * many model calls is one row per model a day, not one per call.
 *
 * Why a trigger: every insert into the ledger, in whatever code path (the proxy's batched
 * LedgerWriter and `Ledger.book` both go through `bookLedgerEntries`, but fixtures, the bench
 * and hand repairs insert too), adds to the rollup in its own statement's transaction, so a
 * committed ledger row is always counted and an aborted one never is. It is a statement
 * trigger over the inserted rows (a transition table): one grouped upsert per batch, not one
 * per row. Rows skipped by `on conflict (dedupe_key) do nothing` are not in the transition
 * table, so a batch written twice counts once. Concurrent batches add with
 * `on conflict … do update set cost_usd = cost_usd + excluded.cost_usd`, in key order so two
 * batches lock shared rows in the same order. The ledger is append-only (nothing updates or
 * deletes its rows); the trigger refuses both so the rollup cannot drift silently.
 *
 * The key's index includes the cost, so a range of days is read from the index alone.
 * NULLS NOT DISTINCT (PostgreSQL 15+, PGlite 17): most keys have nulls (proxy rows carry no
 * runtime, runtime rows often no team), and such rows must meet the same rollup row.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table spend_daily (
      day date not null,
      team_id uuid,
      user_id uuid,
      agent_id uuid,
      runtime text,
      model text,
      run_id uuid,
      cost_usd numeric(18, 8) not null default 0
    )`);
  await knex.raw(`
    create unique index spend_daily_key on spend_daily
      (day, team_id, user_id, agent_id, runtime, model, run_id) include (cost_usd)
      nulls not distinct`);
  await knex.raw(`
    create function spend_daily_add() returns trigger language plpgsql as $$
    begin
      insert into spend_daily as s
        (day, team_id, user_id, agent_id, runtime, model, run_id, cost_usd)
      select (occurred_at at time zone 'UTC')::date, team_id, user_id, agent_id, runtime, model,
             run_id, sum(cost_usd)
        from booked
       group by 1, 2, 3, 4, 5, 6, 7
       order by 1, 2, 3, 4, 5, 6, 7
      on conflict (day, team_id, user_id, agent_id, runtime, model, run_id)
      do update set cost_usd = s.cost_usd + excluded.cost_usd;
      return null;
    end $$`);
  await knex.raw(`
    create trigger ledger_spend_daily after insert on ledger
      referencing new table as booked
      for each statement execute function spend_daily_add()`);
  await knex.raw(`
    create function ledger_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'the ledger is append-only: book a correcting entry instead (spend_daily sums its rows)';
    end $$`);
  await knex.raw(`
    create trigger ledger_append_only before update or delete on ledger
      for each row execute function ledger_append_only()`);
  await knex.raw(`
    insert into spend_daily (day, team_id, user_id, agent_id, runtime, model, run_id, cost_usd)
    select (occurred_at at time zone 'UTC')::date, team_id, user_id, agent_id, runtime, model,
           run_id, sum(cost_usd)
      from ledger
     group by 1, 2, 3, 4, 5, 6, 7`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop trigger if exists ledger_append_only on ledger");
  await knex.raw("drop function if exists ledger_append_only()");
  await knex.raw("drop trigger if exists ledger_spend_daily on ledger");
  await knex.raw("drop function if exists spend_daily_add()");
  await knex.raw("drop table if exists spend_daily");
}
