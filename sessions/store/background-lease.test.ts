import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { BackgroundLease } from "./background-lease.js";

describe.each([
  ["PGlite", false],
  ["PostgreSQL", true],
])("a background lease on %s", (_name, postgres) => {
  let db: Database;
  let test: TestDatabase | undefined;
  const dir = mkdtempSync(join(tmpdir(), "switchboard-lease-"));
  beforeAll(async () => {
    if (postgres) test = await createTestDatabase("lease");
    db = test
      ? await openDatabase({ url: test.url, dataDir: "unused", poolMax: 2 })
      : await openDatabase({ dataDir: dir });
    await migrateLatest(db);
  });
  afterAll(async () => {
    await db?.close();
    await test?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is held by one owner at a time, renewed by it, and taken over once it lapses", async () => {
    const lease = new BackgroundLease(db.knex, "sweeper", 400);
    expect(await lease.hold("worker-a")).toBe(true);
    expect(await lease.hold("worker-b")).toBe(false);
    expect(await lease.hold("worker-a")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await lease.hold("worker-b")).toBe(true);
    expect(await lease.hold("worker-a")).toBe(false);
    await lease.release("worker-b");
    expect(await lease.hold("worker-a")).toBe(true);
    // Another job's lease is its own.
    expect(await new BackgroundLease(db.knex, "other", 400).hold("worker-b")).toBe(true);
  });
});
