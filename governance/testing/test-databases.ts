import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import type { Migration } from "../../migrations/index.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";

/** A migrated database for a test file, on PostgreSQL or on PGlite: the ledger runs on both. */
export interface TestBackend {
  /** Opens it migrated to the latest, or only through `through` (a list's prefix). */
  open(through?: readonly Migration[]): Promise<Database>;
  /** Closes the database and removes it. */
  close(): Promise<void>;
}

export function postgresBackend(label: string): TestBackend {
  let pg: TestDatabase | undefined;
  let db: Database | undefined;
  return {
    async open(through) {
      pg = await createTestDatabase(label);
      db = await openDatabase({ url: pg.url, dataDir: "" });
      await migrateLatest(db, through);
      return db;
    },
    async close() {
      await db?.close();
      await pg?.drop();
    },
  };
}

export function pgliteBackend(): TestBackend {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-ledger-"));
  let db: Database | undefined;
  return {
    async open(through) {
      db = await openDatabase({ dataDir: dir });
      await migrateLatest(db, through);
      return db;
    },
    async close() {
      await db?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const BACKENDS = [
  ["PostgreSQL", () => postgresBackend("ledger")],
  ["PGlite", () => pgliteBackend()],
] as const;
