import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db/index.js";
import { Ledger, type LedgerEntry, LedgerWriter, spendDailyDrift } from "../index.js";
import { BACKENDS, type TestBackend } from "../testing/test-databases.js";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const TEAM = id(900);
const AGENT = id(901);
const PEOPLE = [id(910), id(911), id(912)];
const MODELS = ["gpt-4o", "claude-sonnet", null];

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

/** The rollup's figures for a day, as the spend views add them up. */
async function rollupTotals(db: Database, day: string) {
  const row = await db
    .knex("spend_daily")
    .where({ day })
    .select(db.knex.raw("sum(cost_usd)::text as cost, count(distinct run_id)::int as runs"))
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

describe.each(BACKENDS)("the ledger's daily rollup on %s", (_name, makeBackend) => {
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

  it("equals the ledger after concurrent bookings onto the same keys, duplicates counted once", async () => {
    const runs = [id(1), id(2), id(3), id(4)];
    // Every booking touches the same few rollup rows (same day, team, person, model, run),
    // so concurrent upserts contend for them; half of each batch's events are also in the
    // next batch (a retried write), with other figures: whichever lands first counts, once.
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
    expect(await spendDailyDrift(db.knex)).toEqual([]);
    expect(await rollupTotals(db, "2026-11-10")).toEqual(await ledgerTotals(db, "2026-11-10"));
    expect((await rollupTotals(db, "2026-11-10")).runs).toBe(4);
  });

  it("adds late proxy spend to the run's day and model, and keeps nothing of a rolled-back booking", async () => {
    const run = id(20);
    await ledger.book([
      entry("late-runtime", {
        source: "runtime",
        runtime: "a2a",
        model: null,
        runId: run,
        costUsd: 0.5,
        occurredAt: new Date("2026-11-30T23:59:59.999Z"),
      }),
    ]);
    // The proxy's rows for the run arrive after it ended, one on the next UTC day.
    const writer = new LedgerWriter({ knex: db.knex, logger, flushIntervalMs: 60_000 });
    writer.record(entry("late-proxy-1", { runId: run, costUsd: 0.25 }));
    writer.record(
      entry("late-proxy-2", {
        runId: run,
        costUsd: 0.125,
        occurredAt: new Date("2026-12-01T00:00:00Z"),
      }),
    );
    await writer.close();
    await expect(
      db.knex.transaction(async (trx) => {
        await ledger.book([entry("rolled-back", { runId: run, costUsd: 100 })], trx);
        throw new Error("the run's closing transaction failed");
      }),
    ).rejects.toThrow("closing transaction failed");

    expect(await spendDailyDrift(db.knex)).toEqual([]);
    const rows = await db
      .knex("spend_daily")
      .where({ run_id: run })
      .select(db.knex.raw("day::text as day"), "runtime", "model", "cost_usd")
      .orderBy(["day", "model"]);
    expect(rows).toEqual([
      { day: "2026-11-10", runtime: null, model: "gpt-4o", cost_usd: "0.25000000" },
      { day: "2026-11-30", runtime: "a2a", model: null, cost_usd: "0.50000000" },
      { day: "2026-12-01", runtime: null, model: "gpt-4o", cost_usd: "0.12500000" },
    ]);
    expect(await ledger.runCost(run)).toBeCloseTo(0.875, 8);
  });

  it("refuses to change or remove a booked row, so the rollup cannot drift", async () => {
    await expect(db.knex("ledger").update({ cost_usd: 0 })).rejects.toThrow(/append-only/);
    await expect(db.knex("ledger").del()).rejects.toThrow(/append-only/);
    expect(await spendDailyDrift(db.knex)).toEqual([]);
    // And the check would say so if the rollup were written around the ledger.
    await db.knex("spend_daily").insert({ day: "2026-10-01", model: "stray", cost_usd: 1 });
    expect(await spendDailyDrift(db.knex)).toMatchObject([
      { day: "2026-10-01", model: "stray", ledgerUsd: null, rollupUsd: "1.00000000" },
    ]);
    await db.knex("spend_daily").where({ model: "stray" }).del();
  });
});
