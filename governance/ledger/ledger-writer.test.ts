import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { type LedgerEntry, LedgerWriter, spendByApiKey } from "../index.js";

function entry(dedupeKey: string, costUsd: number, apiKeyId: string | null = null): LedgerEntry {
  return {
    occurredAt: new Date(),
    source: "proxy",
    agentId: null,
    runtime: null,
    model: "gpt-4o",
    userId: null,
    teamId: null,
    runId: null,
    sessionId: null,
    apiKeyId,
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd,
    dedupeKey,
    metadata: { request_id: dedupeKey },
  };
}

describe("LedgerWriter on PostgreSQL", () => {
  let pg: TestDatabase;
  let db: Database;
  const logger = pino({ level: "silent" });

  beforeAll(async () => {
    pg = await createTestDatabase("ledger");
    db = await openDatabase({ url: pg.url, dataDir: "" });
    await migrateLatest(db);
  });
  afterAll(async () => {
    await db.close();
    await pg.drop();
  });

  it("writes queued entries in batches, each event once", async () => {
    const writer = new LedgerWriter({
      knex: db.knex,
      logger,
      batchSize: 2,
      flushIntervalMs: 60_000,
    });
    for (const key of ["a", "b", "c", "a"]) writer.record(entry(key, 0.5));
    expect(writer.pending).toBe(4);
    await writer.flush();
    expect(writer.pending).toBe(0);
    const rows = await db
      .knex("ledger")
      .whereIn("dedupe_key", ["a", "b", "c"])
      .orderBy("dedupe_key");
    expect(rows.map((r) => [r.dedupe_key, r.cost_usd])).toEqual([
      ["a", "0.50000000"],
      ["b", "0.50000000"],
      ["c", "0.50000000"],
    ]);
    await writer.close();
  });

  it("keeps entries while the database refuses them, and writes them once it takes them again", async () => {
    const writer = new LedgerWriter({ knex: db.knex, logger, flushIntervalMs: 60_000 });
    await db.knex.raw("alter table ledger rename to ledger_away");
    try {
      writer.record(entry("during-outage", 1));
      await writer.flush();
      expect(writer.pending).toBe(1);
    } finally {
      await db.knex.raw("alter table ledger_away rename to ledger");
    }
    await writer.close();
    expect(writer.pending).toBe(0);
    expect(await db.knex("ledger").where({ dedupe_key: "during-outage" })).toHaveLength(1);
  });

  it("sums spend per API key", async () => {
    const keyId = "00000000-0000-4000-8000-000000000001";
    const writer = new LedgerWriter({ knex: db.knex, logger, flushIntervalMs: 60_000 });
    writer.record(entry("k1", 0.25, keyId));
    writer.record(entry("k2", 0.5, keyId));
    await writer.close();
    const totals = await spendByApiKey(db.knex, [keyId]);
    expect(totals.get(keyId)).toBeCloseTo(0.75, 8);
  });
});
