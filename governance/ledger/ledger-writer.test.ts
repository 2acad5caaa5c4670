import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Database } from "../../app/db/index.js";
import { type LedgerEntry, LedgerWriter, spendByApiKey } from "../index.js";
import { BACKENDS, type TestBackend } from "../testing/test-databases.js";
import { ledgerInsertBindings } from "./ledger-insert.js";

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

/** Every column set, and every text one with something an array literal must escape. */
function nastyEntry(dedupeKey: string): LedgerEntry {
  return {
    occurredAt: new Date(Date.UTC(2026, 10, 24, 9, 30, 1, 7)),
    source: "runtime",
    agentId: "00000000-0000-4000-8000-00000000000a",
    runtime: "NULL",
    model: 'gpt "4o" \\ {a,b} ünï 🚀\n',
    userId: "00000000-0000-4000-8000-00000000000b",
    teamId: "00000000-0000-4000-8000-00000000000c",
    runId: "00000000-0000-4000-8000-00000000000d",
    sessionId: "00000000-0000-4000-8000-00000000000e",
    apiKeyId: "00000000-0000-4000-8000-00000000000f",
    inputTokens: 2 ** 40,
    outputTokens: 1,
    cacheReadTokens: 2,
    cacheWriteTokens: 3,
    costUsd: 0.1 + 0.2,
    dedupeKey,
    metadata: {
      request_id: 'r"1\\',
      nested: { list: [1, "two", null, { three: "{3}" }] },
      text: 'NULL, "quoted", back\\slash, 日本語, emoji 👩‍💻, tab\t',
      empty: "",
    },
  };
}

describe("ledger insert bindings", () => {
  it("sends one array literal per column, then the metadata as one JSON array", () => {
    const bindings = ledgerInsertBindings([nastyEntry('k"1'), entry("k2", 0.5)]);
    expect(bindings).toHaveLength(17);
    expect(bindings[0]?.startsWith("{1795512601.007,")).toBe(true);
    expect(bindings[3]).toBe('{"NULL",NULL}'); // runtime: the string, then SQL NULL
    expect(bindings[4]).toBe('{"gpt \\"4o\\" \\\\ {a,b} ünï 🚀\n","gpt-4o"}');
    expect(bindings[10]).toBe("{1099511627776,10}");
    expect(bindings[14]).toBe("{0.30000000,0.50000000}");
    expect(bindings[15]).toBe('{"k\\"1","k2"}');
    expect(JSON.parse(bindings[16] ?? "")).toEqual([nastyEntry("").metadata, { request_id: "k2" }]);
  });
});

describe.each(BACKENDS)("LedgerWriter on %s", (_name, makeBackend) => {
  let backend: TestBackend;
  let db: Database;
  const logger = pino({ level: "silent" });

  beforeAll(async () => {
    backend = makeBackend();
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.close();
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

  it("takes a collector's rows at every flush, on a timer and at close", async () => {
    const held = [entry("collected-1", 0.1)];
    const writer = new LedgerWriter({
      knex: db.knex,
      logger,
      flushIntervalMs: 20,
      collect: () => held.splice(0),
    });
    await vi.waitFor(async () => {
      expect(await db.knex("ledger").where({ dedupe_key: "collected-1" })).toHaveLength(1);
    });
    held.push(entry("collected-2", 0.2));
    await writer.close();
    expect(await db.knex("ledger").where({ dedupe_key: "collected-2" })).toHaveLength(1);
  });

  it("writes a large queue in several statements", async () => {
    const writer = new LedgerWriter({ knex: db.knex, logger, flushIntervalMs: 60_000 });
    for (let i = 0; i < 1_200; i += 1) writer.record(entry(`many-${i}`, 0.001));
    await writer.flush();
    expect(writer.pending).toBe(0);
    const count = await db.knex("ledger").where("dedupe_key", "like", "many-%").count({ n: "*" });
    expect(Number(count[0]?.n)).toBe(1_200);
    await writer.close();
  });

  it("writes an event a batch holds twice once", async () => {
    const writer = new LedgerWriter({ knex: db.knex, logger, flushIntervalMs: 60_000 });
    for (const key of ["twice", "twice", "once"]) writer.record(entry(key, 0.25));
    await writer.close();
    const rows = await db.knex("ledger").whereIn("dedupe_key", ["twice", "once"]);
    expect(rows).toHaveLength(2);
  });

  it("stores every column exactly as given, however odd the text", async () => {
    const writer = new LedgerWriter({ knex: db.knex, logger, flushIntervalMs: 60_000 });
    const given = nastyEntry('nasty "key" \\ {1,2} NULL');
    writer.record(given);
    writer.record({ ...entry("no-metadata", 0), metadata: undefined as never });
    await writer.close();
    const row = await db.knex("ledger").where({ dedupe_key: given.dedupeKey }).first();
    expect({ ...row, id: undefined, occurred_at: new Date(row.occurred_at).getTime() }).toEqual({
      id: undefined,
      occurred_at: given.occurredAt.getTime(),
      source: given.source,
      agent_id: given.agentId,
      runtime: given.runtime,
      model: given.model,
      user_id: given.userId,
      team_id: given.teamId,
      run_id: given.runId,
      session_id: given.sessionId,
      api_key_id: given.apiKeyId,
      input_tokens: given.inputTokens,
      output_tokens: given.outputTokens,
      cache_read_tokens: given.cacheReadTokens,
      cache_write_tokens: given.cacheWriteTokens,
      cost_usd: "0.30000000",
      dedupe_key: given.dedupeKey,
      metadata: given.metadata,
    });
    const bare = await db.knex("ledger").where({ dedupe_key: "no-metadata" }).first();
    expect(bare.metadata).toEqual({});
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
