import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import {
  type Database,
  migrateDown,
  migrateLatest,
  migrationStatus,
  openDatabase,
} from "./index.js";

const TABLES = [
  "access_requests",
  "agents",
  "api_keys",
  "approvals",
  "audit_log",
  "authz_tuples",
  "background_leases",
  "budget_raises",
  "budget_reservations",
  "budgets",
  "chat_actions",
  "chat_deliveries",
  "chat_replies",
  "ledger",
  "mcp_calls",
  "messages",
  "person_id_key",
  "run_events",
  "runs",
  "secrets",
  "sessions",
  "site_sessions",
  "spend_daily",
  "spend_daily_agents",
  "spend_daily_users",
  "spend_runs",
  "team_members",
  "team_memberships",
  "teams",
  "user_identities",
  "users",
];

async function tablesOf(db: Database): Promise<string[]> {
  const rows: { table_name: string }[] = await db
    .knex("information_schema.tables")
    .select("table_name")
    .where({ table_schema: "public" })
    .whereNot("table_name", "like", "knex_%")
    .orderBy("table_name");
  return rows.map((r) => r.table_name);
}

interface Backend {
  name: string;
  open(): Promise<Database>;
  cleanup(): Promise<void>;
}

function pgliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-pglite-"));
  return {
    name: "PGlite",
    open: () => openDatabase({ dataDir: dir }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresBackend(): Backend {
  let test: TestDatabase | undefined;
  return {
    name: "PostgreSQL",
    async open() {
      test ??= await createTestDatabase("migrate");
      return openDatabase({ url: test.url, dataDir: "unused", poolMax: 4 });
    },
    cleanup: async () => test?.drop(),
  };
}

describe.each([
  ["PGlite", pgliteBackend],
  ["PostgreSQL", postgresBackend],
])("migrations on %s", (_name, makeBackend) => {
  const backend = makeBackend();
  let db: Database;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await db?.close();
    await backend.cleanup();
  });

  it("go up from nothing, creating every table", async () => {
    const { applied } = await migrateLatest(db);
    expect(applied).toEqual(migrations.map((m) => m.name));
    expect(await tablesOf(db)).toEqual(TABLES);
    expect(await migrationStatus(db)).toEqual({
      applied: migrations.map((m) => m.name),
      pending: [],
    });
  });

  it("do nothing when already up to date", async () => {
    expect(await migrateLatest(db)).toEqual({ applied: [] });
  });

  it("keep the constraints later issues rely on", async () => {
    const [user] = await db.knex("users").insert({ email: "ada@example.com" }).returning("*");
    await expect(db.knex("users").insert({ email: "ada@example.com" })).rejects.toThrow(/unique/i);
    const [agent] = await db
      .knex("agents")
      .insert({
        name: "helper",
        title: "Helper",
        owner: "team:platform",
        runtime_type: "demo",
        manifest: {},
        manifest_digest: "x",
      })
      .returning("*");
    const [session] = await db
      .knex("sessions")
      .insert({ agent_id: agent.id, user_id: user.id, surface: "api", conversation_key: "k1" })
      .returning("*");
    const run = {
      session_id: session.id,
      agent_id: agent.id,
      user_id: user.id,
      input: "hi",
      idempotency_key: "evt-1",
    };
    await db.knex("runs").insert(run);
    // The same idempotency key cannot start a second run.
    await expect(db.knex("runs").insert(run)).rejects.toThrow(/unique/i);
    // Runs without a key are not limited.
    await db.knex("runs").insert({ ...run, idempotency_key: null });
    await db.knex("runs").insert({ ...run, idempotency_key: null });
    await expect(
      db.knex("runs").insert({ ...run, idempotency_key: "evt-2", status: "exploded" }),
    ).rejects.toThrow(/check/i);
    // One session per (surface, conversation, agent).
    await expect(
      db
        .knex("sessions")
        .insert({ agent_id: agent.id, user_id: user.id, surface: "api", conversation_key: "k1" }),
    ).rejects.toThrow(/unique/i);
  });

  it("parse numbers the same way on both databases", async () => {
    await db.knex("ledger").insert({ source: "proxy", input_tokens: 1234, cost_usd: "0.00012345" });
    const row = await db.knex("ledger").first();
    expect(row.input_tokens).toBe(1234);
    expect(row.cost_usd).toBe("0.00012345");
    const count = await db.knex("ledger").count({ n: "*" }).first();
    expect(count?.n).toBe(1);
  });

  it("go all the way down, and up again", async () => {
    const { applied: reverted } = await migrateDown(db, { all: true });
    expect(reverted).toEqual(migrations.map((m) => m.name).reverse());
    expect(await tablesOf(db)).toEqual([]);
    expect((await migrateLatest(db)).applied).toEqual(migrations.map((m) => m.name));
    expect(await tablesOf(db)).toEqual(TABLES);
  });
});

describe("migrations started by two processes at once on PostgreSQL", () => {
  let test: TestDatabase;
  const open: Database[] = [];
  beforeAll(async () => {
    test = await createTestDatabase("race");
  });
  afterAll(async () => {
    await Promise.all(open.map((db) => db.close()));
    await test.drop();
  });

  it("apply each migration once: one does the work, the other waits and finds nothing to do", async () => {
    const a = await openDatabase({ url: test.url, dataDir: "unused", poolMax: 1 });
    const b = await openDatabase({ url: test.url, dataDir: "unused", poolMax: 1 });
    open.push(a, b);
    const [first, second] = await Promise.all([migrateLatest(a), migrateLatest(b)]);
    const applied = [...first.applied, ...second.applied].sort();
    expect(applied).toEqual(migrations.map((m) => m.name).sort());
    const rows = await a.knex("knex_migrations").select("name");
    expect(rows).toHaveLength(migrations.length);
  });

  it("recover from a knex lock row left set by a process killed mid-migration", async () => {
    const db = open[0] as Database;
    await migrateDown(db, { all: true });
    await db.knex("knex_migrations_lock").update({ is_locked: 1 });
    expect((await migrateLatest(db)).applied).toEqual(migrations.map((m) => m.name));
  });
});
