import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { EmbeddedAuthorizer, loadPolicyModel } from "../../authz/index.js";
import { eventually } from "../support/eventually.js";
import { createTestDatabase, type TestDatabase, withAdmin } from "../support/postgres.js";

/**
 * The attack: keep access that was taken away while a process was not listening. Without an
 * OpenFGA server, every process holds the tuples in memory and hears other processes' grants
 * and revocations over PostgreSQL LISTEN/NOTIFY. A revocation made while one process's
 * LISTEN connection is down (PostgreSQL restarting, a backend cut, a network blip) is never
 * sent to it again; Mallory, whose access was revoked, keeps asking that process.
 */

const mallorySeesPayroll = {
  user: "user:mallory@example.com",
  relation: "viewer",
  object: "agent:payroll",
};

function asAdmin(sql: string, params: unknown[] = []): Promise<unknown> {
  return withAdmin((admin) => admin.query(sql, params));
}

describe("a revocation made while a process's authorization feed is cut", () => {
  let test: TestDatabase;
  const dbs: Database[] = [];
  let writer: EmbeddedAuthorizer;
  let listener: EmbeddedAuthorizer;

  beforeAll(async () => {
    test = await createTestDatabase("sec_feed");
    for (let i = 0; i < 2; i++)
      dbs.push(await openDatabase({ url: test.url, dataDir: "unused", poolMax: 2 }));
    await migrateLatest(dbs[0] as Database);
    const open = (db: Database) =>
      EmbeddedAuthorizer.open({
        knex: db.knex,
        modelDsl: loadPolicyModel(),
        databaseUrl: test.url,
      });
    writer = await open(dbs[0] as Database);
    listener = await open(dbs[1] as Database);
  });
  afterAll(async () => {
    await asAdmin(`alter database "${test.name}" with allow_connections true`);
    await writer.close();
    await listener.close();
    for (const db of dbs) await db.close();
    await test.drop();
  });

  it("reaches that process once it listens again: its old grant is not kept", async () => {
    await writer.write([mallorySeesPayroll]);
    await eventually(async () => expect(await listener.check(mallorySeesPayroll)).toBe(true));

    // The feeds' connections cut and kept from coming back; the writer's pool stays open.
    await (dbs[0] as Database).knex.raw("select 1");
    await asAdmin(`alter database "${test.name}" with allow_connections false`);
    await asAdmin(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'switchboard authz change feed'",
      [test.name],
    );
    // Meanwhile the process says it is not ready (/readyz), rather than answer as if current.
    await eventually(() => expect(listener.ping()).rejects.toThrow(/change feed/));

    await writer.write([], [mallorySeesPayroll]);
    await asAdmin(`alter database "${test.name}" with allow_connections true`);

    await eventually(async () => {
      expect(await listener.check(mallorySeesPayroll)).toBe(false);
      await listener.ping();
    }, 20_000);
  });
});
