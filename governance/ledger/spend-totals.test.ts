import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest } from "../../app/db/index.js";
import { migrations } from "../../migrations/index.js";
import { Ledger, type LedgerEntry, LedgerWriter, spendTotalsDrift } from "../index.js";
import { BACKENDS, postgresBackend, type TestBackend } from "../testing/test-databases.js";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const TEAM = id(900);
const AGENT = id(901);
const PEOPLE = [id(910), id(911), id(912)];
const MODELS = ["gpt-4o", "claude-sonnet", null];
const TOTALS = ["spend_daily", "spend_daily_agents", "spend_daily_users"];

function entry(key: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    occurredAt: new Date("2026-11-10T12:00:00Z"),
    source: "proxy",
    agentId: AGENT,
    runtime: null,
    model: "gpt-4o",
    userId: PEOPLE[0] as string,
    teamId: null,
    runId: null,
    sessionId: null,
    apiKeyId: null,
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0.125,
    dedupeKey: key,
    metadata: {},
    ...over,
  };
}

/** A running total's figures for a day (or every day), as the spend views add them up. */
async function totals(db: Database, table: string, where: Record<string, unknown> = {}) {
  const row = await db
    .knex(table)
    .where(where)
    .select(db.knex.raw("sum(cost_usd)::text as cost, coalesce(sum(runs), 0)::int as runs"))
    .first();
  return { cost: row.cost as string, runs: row.runs as number };
}

async function ledgerTotals(db: Database, day: string) {
  const row = await db
    .knex("ledger")
    .whereRaw("(occurred_at at time zone 'UTC')::date = ?", [day])
    .select(db.knex.raw("sum(cost_usd)::text as cost, count(distinct run_id)::int as runs"))
    .first();
  return { cost: row.cost as string, runs: row.runs as number };
}

/** A person, an agent, a session and a run of it, as the runs engine leaves them. */
async function realRun(db: Database, name: string, runtime: string) {
  const [user] = await db.knex("users").insert({ email: `${name}@example.com` }, ["id"]);
  const [agent] = await db.knex("agents").insert(
    {
      name,
      title: name,
      owner: "team:totals",
      runtime_type: runtime,
      manifest: {},
      manifest_digest: name,
    },
    ["id"],
  );
  const [session] = await db
    .knex("sessions")
    .insert({ agent_id: agent.id, user_id: user.id, surface: "api", conversation_key: name }, [
      "id",
    ]);
  const [run] = await db.knex("runs").insert(
    {
      session_id: session.id,
      agent_id: agent.id,
      user_id: user.id,
      input: "hi",
      runtime,
      status: "running",
    },
    ["id"],
  );
  return { userId: user.id as string, agentId: agent.id as string, runId: run.id as string };
}

describe.each(BACKENDS)("the ledger's running totals on %s", (name, makeBackend) => {
  let backend: TestBackend;
  let db: Database;
  let ledger: Ledger;
  const logger = pino({ level: "silent" });

  beforeAll(async () => {
    backend = makeBackend();
    db = await backend.open();
    ledger = new Ledger(db.knex);
  });
  afterAll(async () => {
    await backend.close();
  });

  it("equal the ledger after concurrent bookings onto the same keys, duplicates and runs counted once", async () => {
    const runs = [id(1), id(2), id(3), id(4)];
    // Every booking touches the same few totals (same day, team, person, model) and the same
    // four new runs, so concurrent upserts and first bookings contend; half of each batch's
    // events are also in the next batch (a retried write), with other figures: whichever
    // lands first counts, once.
    const batches = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 20 }, (_, i) =>
        entry(`c-${(b + (i % 2)) % 12}-${i - (i % 2)}`, {
          runId: runs[i % runs.length] as string,
          userId: PEOPLE[i % PEOPLE.length] as string,
          model: MODELS[i % MODELS.length] as string | null,
          teamId: i % 5 === 0 ? TEAM : null,
          runtime: i % 4 === 0 ? "a2a" : null,
          source: i % 4 === 0 ? "runtime" : "proxy",
          costUsd: 0.001 * (i + 1) + 0.00000001,
        }),
      ),
    );
    const writers = [0, 1].map(
      () => new LedgerWriter({ knex: db.knex, logger, batchSize: 7, flushIntervalMs: 60_000 }),
    );
    await Promise.all(
      batches.map(async (batch, b) => {
        if (b % 3 === 0) {
          const writer = writers[b % 2] as LedgerWriter;
          for (const e of batch) writer.record(e);
          await writer.flush();
        } else if (b % 3 === 1) {
          await ledger.book(batch);
        } else {
          await db.knex.transaction((trx) => ledger.book(batch, trx));
        }
      }),
    );
    await Promise.all(writers.map((writer) => writer.close()));

    expect(Number((await db.knex("ledger").count({ n: "*" }).first())?.n)).toBe(12 * 10);
    expect(await spendTotalsDrift(db.knex)).toEqual([]);
    const day = { day: "2026-11-10" };
    const booked = await ledgerTotals(db, day.day);
    expect(booked.runs).toBe(4);
    for (const table of TOTALS) expect(await totals(db, table, day)).toEqual(booked);
    expect(await db.knex("spend_runs").count({ n: "*" }).first()).toMatchObject({ n: 4 });
  });

  it("adds late proxy spend to its own day and model, counts the run once, and keeps nothing of a rolled-back booking", async () => {
    const run = id(20);
    const agentId = id(920);
    const late = (key: string, over: Partial<LedgerEntry>) =>
      entry(key, { runId: run, agentId, ...over });
    await ledger.book([
      late("late-runtime", {
        source: "runtime",
        runtime: "a2a",
        model: null,
        costUsd: 0.5,
        occurredAt: new Date("2026-11-30T23:59:59.999Z"),
      }),
    ]);
    // The proxy's rows for the run arrive after it ended, one on the next UTC day.
    const writer = new LedgerWriter({ knex: db.knex, logger, flushIntervalMs: 60_000 });
    writer.record(late("late-proxy-1", { costUsd: 0.25 }));
    writer.record(
      late("late-proxy-2", { costUsd: 0.125, occurredAt: new Date("2026-12-01T00:00:00Z") }),
    );
    await writer.close();
    await expect(
      db.knex.transaction(async (trx) => {
        await ledger.book([late("rolled-back", { costUsd: 100 })], trx);
        throw new Error("the run's closing transaction failed");
      }),
    ).rejects.toThrow("closing transaction failed");

    expect(await spendTotalsDrift(db.knex)).toEqual([]);
    const rows = await db
      .knex("spend_daily")
      .where({ agent_id: agentId })
      .select(db.knex.raw("day::text as day"), "runtime", "model", "cost_usd", "runs")
      .orderBy(["day", "model"]);
    // Counted once, where it was first booked: the runtime's row of 30 November.
    expect(rows).toEqual([
      { day: "2026-11-10", runtime: null, model: "gpt-4o", cost_usd: "0.25000000", runs: 0 },
      { day: "2026-11-30", runtime: "a2a", model: null, cost_usd: "0.50000000", runs: 1 },
      { day: "2026-12-01", runtime: null, model: "gpt-4o", cost_usd: "0.12500000", runs: 0 },
    ]);
    expect(await totals(db, "spend_daily_agents", { agent_id: agentId })).toEqual({
      cost: "0.87500000",
      runs: 1,
    });
    expect(await ledger.runCost(run)).toBeCloseTo(0.875, 8);
  });

  it("counts a run that spans midnight and uses two models once, on its first booking's day, model and its own runtime", async () => {
    const { userId, agentId, runId } = await realRun(db, `midnight-${name.toLowerCase()}`, "n8n");
    const call = (key: string, model: string, at: string, costUsd: number) =>
      entry(key, { runId, agentId, userId, model, costUsd, occurredAt: new Date(at) });
    // The proxy books its first calls before midnight, more after; the runtime's report last.
    await ledger.book([call(`${runId}-1`, "gpt-4o", "2026-11-20T23:58:00Z", 0.25)]);
    await ledger.book([
      call(`${runId}-2`, "claude-sonnet", "2026-11-20T23:59:00Z", 0.125),
      call(`${runId}-3`, "claude-sonnet", "2026-11-21T00:01:00Z", 0.5),
    ]);
    await ledger.book([
      entry(`${runId}-runtime`, {
        source: "runtime",
        runtime: "n8n",
        model: "gpt-4o",
        runId,
        agentId,
        userId,
        costUsd: 1,
        occurredAt: new Date("2026-11-21T00:02:00Z"),
      }),
    ]);

    expect(await spendTotalsDrift(db.knex)).toEqual([]);
    const mine = { agent_id: agentId };
    expect(await totals(db, "spend_daily", mine)).toEqual({ cost: "1.87500000", runs: 1 });
    const byDay = await db
      .knex("spend_daily_users")
      .where({ user_id: userId })
      .select(db.knex.raw("day::text as day"), "cost_usd", "runs")
      .orderBy("day");
    expect(byDay).toEqual([
      { day: "2026-11-20", cost_usd: "0.37500000", runs: 1 },
      { day: "2026-11-21", cost_usd: "1.50000000", runs: 0 },
    ]);
    const byModel = await db
      .knex("spend_daily")
      .where(mine)
      .select("model")
      .sum({ cost: "cost_usd", runs: "runs" })
      .groupBy("model")
      .orderBy("model");
    expect(
      byModel.map((r: Record<string, unknown>) => [r.model, Number(r.cost), Number(r.runs)]),
    ).toEqual([
      ["claude-sonnet", 0.625, 0],
      ["gpt-4o", 1.25, 1],
    ]);
    // The first booking was a proxy call, which names no runtime: the run's own counts.
    const byRuntime = await db
      .knex("spend_daily")
      .where(mine)
      .select("runtime")
      .sum({ runs: "runs" })
      .groupBy("runtime")
      .orderBy("runtime");
    expect(byRuntime.map((r: Record<string, unknown>) => [r.runtime, Number(r.runs)])).toEqual([
      ["n8n", 1],
      [null, 0],
    ]);
    expect((await db.knex("runs").where({ id: runId }).first()).cost_usd).toBe("1.87500000");
  });

  it("refuses to change or remove a booked row, and the check finds totals written around the ledger", async () => {
    await expect(db.knex("ledger").update({ cost_usd: 0 })).rejects.toThrow(/append-only/);
    await expect(db.knex("ledger").del()).rejects.toThrow(/append-only/);
    expect(await spendTotalsDrift(db.knex)).toEqual([]);
    await db.knex("spend_daily").insert({ day: "2026-10-01", model: "stray", cost_usd: 1 });
    const person = { day: "2026-11-10", user_id: PEOPLE[0] };
    await db.knex("spend_daily_users").where(person).increment("runs", 1);
    await db.knex("spend_runs").insert({ run_id: id(77), ledger_id: 0 });
    const drift = await spendTotalsDrift(db.knex);
    expect(drift).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ table: "spend_runs", key: { run_id: id(77) }, totalRuns: 0 }),
        expect.objectContaining({
          table: "spend_daily",
          key: expect.objectContaining({ day: "2026-10-01", model: "stray" }),
          ledgerUsd: null,
          totalUsd: "1.00000000",
        }),
        expect.objectContaining({
          table: "spend_daily_users",
          key: { day: "2026-11-10", user_id: PEOPLE[0] },
          totalRuns: expect.any(Number),
        }),
      ]),
    );
    await db.knex("spend_daily").where({ model: "stray" }).del();
    await db
      .knex("spend_runs")
      .where({ run_id: id(77) })
      .del();
    await db.knex("spend_daily_users").where(person).decrement("runs", 1);
    expect(await spendTotalsDrift(db.knex)).toEqual([]);
  });
});

describe.each(BACKENDS)("the running totals' migration on %s", (_name, makeBackend) => {
  let backend: TestBackend;
  let db: Database;
  const before = migrations.filter((m) => m.name < "20261206_0900_spend_totals");

  beforeAll(async () => {
    backend = makeBackend();
    db = await backend.open(before);
  });
  afterAll(async () => {
    await backend.close();
  });

  it("fills the totals from the ledger already booked, each run counted at its first row", async () => {
    const { userId, agentId, runId } = await realRun(db, "backfilled", "n8n");
    const ledger = new Ledger(db.knex);
    await ledger.book([
      entry("b-1", { runId, agentId, userId, occurredAt: new Date("2026-11-20T23:59:00Z") }),
      entry("b-2", {
        runId,
        agentId,
        userId,
        model: "claude-sonnet",
        occurredAt: new Date("2026-11-21T00:01:00Z"),
      }),
      entry("b-3", { runId: id(5), teamId: TEAM, costUsd: 0.5 }),
      entry("b-4", { runId: id(5), runtime: "a2a", source: "runtime", costUsd: 0.25 }),
      entry("b-5", { agentId: null, costUsd: 2 }),
    ]);
    await migrateLatest(db);

    expect(await spendTotalsDrift(db.knex)).toEqual([]);
    for (const table of TOTALS) {
      expect(await totals(db, table)).toEqual({ cost: "3.00000000", runs: 2 });
    }
    const counted = await db
      .knex("spend_daily")
      .where("runs", ">", 0)
      .select(db.knex.raw("day::text as day"), "agent_id", "team_id", "runtime", "model", "runs")
      .orderBy("day");
    expect(counted).toEqual([
      {
        day: "2026-11-10",
        agent_id: AGENT,
        team_id: TEAM,
        runtime: null,
        model: "gpt-4o",
        runs: 1,
      },
      {
        day: "2026-11-20",
        agent_id: agentId,
        team_id: null,
        runtime: "n8n",
        model: "gpt-4o",
        runs: 1,
      },
    ]);
    // And the trigger carries on from there.
    await ledger.book([entry("b-6", { runId: id(6), costUsd: 1 })]);
    expect(await spendTotalsDrift(db.knex)).toEqual([]);
    expect(await totals(db, "spend_daily_agents")).toEqual({ cost: "4.00000000", runs: 3 });
  });
});

/** Bookings that wait on each other: PostgreSQL only (PGlite runs one statement at a time). */
describe("the running totals under concurrent transactions on PostgreSQL", () => {
  const backend = postgresBackend("totals_race");
  let db: Database;
  let ledger: Ledger;

  beforeAll(async () => {
    db = await backend.open();
    ledger = new Ledger(db.knex);
  });
  afterAll(async () => {
    await backend.close();
  });

  it.each([
    ["commits", id(30), "commit"],
    ["rolls back", id(31), "rollback"],
  ] as const)(
    "counts a new run once when two bookings of it race and the first %s",
    async (_what, run, end) => {
      const trx = await db.knex.transaction();
      await ledger.book([entry(`${run}-first`, { runId: run, costUsd: 1 })], trx);
      // The second booking's count waits on the first's uncommitted one.
      const second = ledger.book([entry(`${run}-second`, { runId: run, costUsd: 2 })]);
      await sleep(200);
      if (end === "commit") await trx.commit();
      else await trx.rollback();
      await second;

      expect(await spendTotalsDrift(db.knex)).toEqual([]);
      const counted = await db
        .knex("spend_runs")
        .join("ledger", "ledger.id", "spend_runs.ledger_id")
        .where("spend_runs.run_id", run)
        .select("ledger.dedupe_key");
      expect(counted).toEqual([{ dedupe_key: `${run}-${end === "commit" ? "first" : "second"}` }]);
      expect(await totals(db, "spend_daily_users", { user_id: PEOPLE[0] })).toMatchObject({
        runs: (await db.knex("spend_runs").count({ n: "*" }).first())?.n,
      });
    },
  );

  it("lets a run's close and the proxy's batch for it book onto one agent's day without a deadlock", async () => {
    const { userId, agentId, runId } = await realRun(db, "closing", "a2a");
    const at = new Date("2026-11-12T10:00:00Z");
    const mine = { agentId, userId, occurredAt: at };
    // The close holds its run row first (its status), then books the runtime's report.
    const close = db.knex.transaction(async (trx) => {
      await trx("runs").where({ id: runId }).update({ status: "succeeded" });
      await sleep(300);
      await ledger.book(
        [
          entry(`${runId}-runtime`, {
            ...mine,
            runId,
            source: "runtime",
            runtime: "a2a",
            costUsd: 1,
          }),
        ],
        trx,
      );
    });
    // Meanwhile the proxy's batch books the run's last call and another run's onto the same
    // agent's day, then sets the runs' cost: it must wait for the run row, not take the
    // agent's total first.
    await sleep(50);
    const batch = ledger.book([
      entry(`${runId}-proxy`, { ...mine, runId, costUsd: 0.5 }),
      entry(`${runId}-other`, { ...mine, runId: id(40), costUsd: 0.25 }),
    ]);
    await Promise.all([close, batch]);

    expect(await spendTotalsDrift(db.knex)).toEqual([]);
    expect(await totals(db, "spend_daily_agents", { agent_id: agentId })).toEqual({
      cost: "1.75000000",
      runs: 2,
    });
    expect((await db.knex("runs").where({ id: runId }).first()).cost_usd).toBe("1.50000000");
  });
});
