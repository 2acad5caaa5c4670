import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { UserDirectory } from "../../authz/index.js";
import { AuditLog } from "../../governance/index.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { SiteSessions } from "./site-sessions.js";

/** The site's stored sessions on PostgreSQL: what signing out, revoking and expiry do to them. */
describe("SiteSessions", () => {
  let database: TestDatabase;
  let db: Database;
  let sessions: SiteSessions;
  let audit: AuditLog;
  let users: UserDirectory;

  beforeAll(async () => {
    database = await createTestDatabase("site_sessions");
    db = await openDatabase({ url: database.url, dataDir: "unused", poolMax: 2 });
    await migrateLatest(db);
    audit = new AuditLog(db.knex);
    sessions = new SiteSessions(db.knex, audit);
    users = new UserDirectory(db.knex);
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const signIn = async (email: string, method: "development" | "oidc" = "oidc") => {
    const user = await users.ensureUser(email);
    const started = await sessions.start({
      userId: user.id,
      method,
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
      address: "203.0.113.9",
    });
    return { ...started, user };
  };

  it("finds a session by its token, and stores only the token's hash", async () => {
    const { token, id, user } = await signIn("ada@example.com");
    await expect(sessions.find(token)).resolves.toMatchObject({
      id,
      method: "oidc",
      user: { id: user.id, email: "ada@example.com" },
    });
    const row = await db.knex("site_sessions").where({ id }).first();
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    await expect(sessions.find(`${token}x`)).resolves.toBeUndefined();
  });

  it("writes last seen at most once a minute", async () => {
    const { token, id } = await signIn("bo@example.com");
    const lastSeen = async () =>
      ((await db.knex("site_sessions").where({ id }).first()).last_seen_at as Date).getTime();
    const first = await lastSeen();
    await sessions.find(token);
    await sessions.find(token);
    expect(await lastSeen()).toBe(first);
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await db.knex("site_sessions").where({ id }).update({ last_seen_at: twoMinutesAgo });
    await sessions.find(token);
    expect(await lastSeen()).toBeGreaterThan(twoMinutesAgo.getTime() + 60_000);
  });

  it("ends a session on sign-out: its token finds nothing afterwards", async () => {
    const { token } = await signIn("cy@example.com");
    await sessions.end(token);
    await expect(sessions.find(token)).resolves.toBeUndefined();
  });

  it("refuses an expired session, and sweeps expired rows at the next sign-in", async () => {
    const { token, id } = await signIn("dee@example.com");
    await db
      .knex("site_sessions")
      .where({ id })
      .update({ expires_at: new Date(Date.now() - 1) });
    await expect(sessions.find(token)).resolves.toBeUndefined();
    expect((await sessions.list({ limit: 100 })).map((s) => s.id)).not.toContain(id);
    await signIn("eve@example.com");
    expect(await db.knex("site_sessions").where({ id }).first()).toBeUndefined();
  });

  it("refuses the session of a person who was deactivated", async () => {
    const { token, user } = await signIn("fay@example.com");
    await db.knex("users").where({ id: user.id }).update({ is_active: false });
    await expect(sessions.find(token)).resolves.toBeUndefined();
  });

  it("lets an admin end one session, or every session of a person, and audits it", async () => {
    const [one, two, other] = [
      await signIn("gus@example.com"),
      await signIn("gus@example.com", "development"),
      await signIn("hal@example.com"),
    ];
    const listed = await sessions.list({ limit: 100, userEmail: "GUS@example.com" });
    expect(listed.map((s) => s.id).sort()).toEqual([one.id, two.id].sort());
    expect(listed[0]).toMatchObject({ userEmail: "gus@example.com", address: "203.0.113.9" });

    await sessions.revoke(one.id, "user:admin@example.com");
    await expect(sessions.find(one.token)).resolves.toBeUndefined();
    await expect(sessions.find(two.token)).resolves.toBeDefined();
    await expect(sessions.revoke(one.id, "user:admin@example.com")).rejects.toMatchObject({
      status: 404,
    });

    expect(await sessions.revokeUser("gus@example.com", "system:cli")).toBe(1);
    await expect(sessions.find(two.token)).resolves.toBeUndefined();
    await expect(sessions.find(other.token)).resolves.toBeDefined();

    const entries = await audit.recent({ targetType: "user", targetId: "gus@example.com" });
    expect(entries.map((e) => [e.actor, e.action, e.details.sessions])).toEqual([
      ["system:cli", "site_session.revoked", 1],
      ["user:admin@example.com", "site_session.revoked", 1],
    ]);
  });
});
