import type { Knex } from "knex";

/**
 * Running totals of the ledger for budgets and the spend views, owned by governance/ledger
 * (see spend-totals.ts there), all kept by the ledger's insert trigger in the insert's own
 * transaction and backfilled here. Replaces 20261206_0700's per-run rollup.
 *
 * Why: admission summed the ledger for each budget's period (100,000 rows this month added
 * ~240 ms to a run's dispatch) and the spend views counted distinct runs per request (~83,000
 * of them for a platform-wide month: p95 ~630 ms against a target of 200). Both now read rows
 * that are already added up.
 *
 * - spend_runs: each run the ledger has seen, once, with the ledger row that counted it (its
 *   first booking) and the runtime it was counted under (that row's, else the run's own:
 *   proxy rows carry no runtime). Its primary key is what makes "count once" exact when two
 *   bookings of a new run race: the second insert waits for the first's commit and skips.
 * - spend_daily: the ledger per UTC day × team × person × agent × runtime × model with its
 *   cost and `runs`, the runs counted in that row (no run id any more: a run's rows become
 *   one row per day and model, whatever its number of calls). A run counts once, in the row
 *   of its first booking, so every grouping's runs add up to the total, and per request
 *   they are summed, not counted. Every row of a run names the same person and agent, so by
 *   person and by agent a run counts where all its spend is; by runtime under its own
 *   runtime; by team under its first booking's (its agent's team unless that booking named
 *   another, as a proxy key of another team does); by model and by day under its first
 *   booking's model and day (a run that used two models or ran past midnight counts once,
 *   not under each). Cost stays exact for every group: each ledger row is in one total row.
 * - spend_daily_agents (day × agent × booked team) and spend_daily_users (day × person):
 *   the same figures folded to what budgets read (a team's spend is its agents' and what is
 *   booked to it, so both columns stay) and what the platform-wide views by team, agent or
 *   person read: a row per agent (or person) a day, not per model and runtime.
 *
 * Concurrency: every booking statement locks rows of these tables in one order (spend_runs,
 * spend_daily, spend_daily_agents, spend_daily_users, each in key order), so two bookings
 * never deadlock on them. Bookings of one agent on one day now meet on one row of
 * spend_daily_agents; they queue on it until the booking commits (a run's close is a short
 * transaction). `bookLedgerEntries` locks the runs it books before inserting, so a run's
 * close (which holds its run row first) and the proxy's batch for the same run take the run
 * row and the totals' rows in the same order.
 */

/** The parts of ledger rows (`rows`: the trigger's batch, or the whole ledger): each row's cost, and 1 for each run it counts. */
const parts = (rows: string) => `
  select (occurred_at at time zone 'UTC')::date as day, team_id, user_id, agent_id, runtime,
         model, cost_usd as cost,
         case when metadata @> '{"cost_estimate": true}' then cost_usd else 0 end as estimated,
         0 as runs
    from ${rows}
  union all
  select (b.occurred_at at time zone 'UTC')::date, b.team_id, b.user_id, b.agent_id, c.runtime,
         b.model, 0, 0, 1
    from ${rows} b join spend_runs c on c.run_id = b.run_id and c.ledger_id = b.id`;

/** Adds the parts to one table, grouped by its key, in key order (see the lock order above). */
function addTo(table: string, key: string): string {
  return `
      insert into ${table} as s (${key}, cost_usd, estimated_usd, runs)
      select ${key}, sum(cost), sum(estimated), sum(runs) from (${parts("booked")}) parts
       group by ${key} order by ${key}
      on conflict (${key})
      do update set cost_usd = s.cost_usd + excluded.cost_usd,
                    estimated_usd = s.estimated_usd + excluded.estimated_usd,
                    runs = s.runs + excluded.runs;`;
}

const FULL_KEY = "day, team_id, user_id, agent_id, runtime, model";
const AGENTS_KEY = "day, agent_id, team_id";
const USERS_KEY = "day, user_id";

async function createTotals(knex: Knex): Promise<void> {
  await knex.raw(`
    create table spend_runs (
      run_id uuid primary key,
      ledger_id bigint not null,
      runtime text
    )`);
  for (const [table, columns] of [
    ["spend_daily", "team_id uuid, user_id uuid, agent_id uuid, runtime text, model text"],
    ["spend_daily_agents", "agent_id uuid, team_id uuid"],
    ["spend_daily_users", "user_id uuid"],
  ] as const) {
    await knex.raw(`
      create table ${table} (
        day date not null,
        ${columns},
        cost_usd numeric(18, 8) not null default 0,
        -- The part of cost_usd that is an estimate (a runtime billed by its own meter,
        -- priced by a configured rate: the ledger row's metadata.cost_estimate).
        estimated_usd numeric(18, 8) not null default 0,
        runs integer not null default 0
      )`);
  }
  // Each key's index holds the figures, so a range of days is read from the index alone.
  // NULLS NOT DISTINCT (PostgreSQL 15+, PGlite 17): rows without a team, runtime or model
  // must meet the same total.
  await knex.raw(`create unique index spend_daily_key on spend_daily (${FULL_KEY})
    include (cost_usd, estimated_usd, runs) nulls not distinct`);
  await knex.raw(`create unique index spend_daily_agents_key on spend_daily_agents (${AGENTS_KEY})
    include (cost_usd, estimated_usd, runs) nulls not distinct`);
  await knex.raw(`create unique index spend_daily_users_key on spend_daily_users (${USERS_KEY})
    include (cost_usd, estimated_usd, runs) nulls not distinct`);
  // A budget reads one agent's, one team's or one person's days.
  await knex.raw(
    "create index spend_daily_agents_agent on spend_daily_agents (agent_id, day) include (cost_usd)",
  );
  await knex.raw(`create index spend_daily_agents_team on spend_daily_agents (team_id, day)
    include (cost_usd) where team_id is not null`);
  await knex.raw(
    "create index spend_daily_users_user on spend_daily_users (user_id, day) include (cost_usd)",
  );

  await knex.raw(`
    create function spend_totals_add() returns trigger language plpgsql as $$
    begin
      -- The runs this batch books first: its earliest row of each run not counted yet (the
      -- run's own runtime when that row, a proxy call, has none).
      insert into spend_runs (run_id, ledger_id, runtime)
      select first.run_id, first.id, coalesce(first.runtime, r.runtime)
        from (select distinct on (run_id) run_id, id, runtime
                from booked where run_id is not null order by run_id, id) first
        left join runs r on r.id = first.run_id
       order by first.run_id
      on conflict (run_id) do nothing;
      ${addTo("spend_daily", FULL_KEY)}
      ${addTo("spend_daily_agents", AGENTS_KEY)}
      ${addTo("spend_daily_users", USERS_KEY)}
      return null;
    end $$`);
  await knex.raw(`
    create trigger ledger_spend_totals after insert on ledger
      referencing new table as booked
      for each statement execute function spend_totals_add()`);
}

/** The totals of every row booked so far, as the trigger would have added them. */
async function backfill(knex: Knex): Promise<void> {
  await knex.raw(`
    insert into spend_runs (run_id, ledger_id, runtime)
    select first.run_id, first.id, coalesce(first.runtime, r.runtime)
      from (select distinct on (run_id) run_id, id, runtime
              from ledger where run_id is not null order by run_id, id) first
      left join runs r on r.id = first.run_id`);
  for (const [table, key] of [
    ["spend_daily", FULL_KEY],
    ["spend_daily_agents", AGENTS_KEY],
    ["spend_daily_users", USERS_KEY],
  ] as const) {
    await knex.raw(`
      insert into ${table} (${key}, cost_usd, estimated_usd, runs)
      select ${key}, sum(cost), sum(estimated), sum(runs)
        from (${parts("ledger")}) parts group by ${key}`);
  }
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw("drop trigger if exists ledger_spend_daily on ledger");
  await knex.raw("drop function if exists spend_daily_add()");
  await knex.raw("drop table if exists spend_daily");
  await createTotals(knex);
  await backfill(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop trigger if exists ledger_spend_totals on ledger");
  await knex.raw("drop function if exists spend_totals_add()");
  for (const table of ["spend_daily", "spend_daily_agents", "spend_daily_users", "spend_runs"]) {
    await knex.raw(`drop table if exists ${table}`);
  }
  // 20261206_0700's per-run rollup, as it was.
  await knex.raw(`
    create table spend_daily (
      day date not null, team_id uuid, user_id uuid, agent_id uuid, runtime text, model text,
      run_id uuid, cost_usd numeric(18, 8) not null default 0
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
    insert into spend_daily (day, team_id, user_id, agent_id, runtime, model, run_id, cost_usd)
    select (occurred_at at time zone 'UTC')::date, team_id, user_id, agent_id, runtime, model,
           run_id, sum(cost_usd)
      from ledger
     group by 1, 2, 3, 4, 5, 6, 7`);
}
