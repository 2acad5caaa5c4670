import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * Each test file that needs PostgreSQL gets a database of its own, made from the server in
 * TEST_DATABASE_URL (default: the local one CI starts) and dropped afterwards.
 */
export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Work on the server as its superuser, on its admin database (not a test's own). */
export async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(label = "test"): Promise<TestDatabase> {
  const name = `sb_${label.replace(/\W/g, "_").slice(0, 20)}_${randomBytes(4).toString("hex")}`;
  await withAdmin(async (client) => {
    await client.query(`create database "${name}"`);
  });
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      await withAdmin((client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}
