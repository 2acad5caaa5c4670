import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";

/**
 * How `serve` picks the site's sign-in: bound beyond loopback there is no development form;
 * with a trusted header configured, a request from a listed proxy is signed in by it.
 */
describe("sign-in modes of switchboard serve", { timeout: 90_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-sign-in-"));
  let server: SwitchboardProcess;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      PORT: String(port),
      HOST: "0.0.0.0",
      AUTH_TRUSTED_HEADER: "X-Forwarded-Email",
      AUTH_TRUSTED_PROXIES: "127.0.0.1, ::1",
    });
    await server.waitFor(`${base}/readyz`);
  }, 90_000);

  afterAll(async () => {
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("offers no development sign-in when bound beyond loopback", async () => {
    const page = await fetch(`${base}/sign-in`);
    const text = await page.text();
    expect(text).toContain("single sign-on");
    expect(text).not.toContain('name="email"');
    const cookie = page.headers.get("set-cookie")?.split(";")[0] ?? "";
    // No form to post, but a request with a valid session and token is still refused.
    const token = /name="csrf-token" content="([^"]+)"/.exec(text)?.[1] ?? "";
    const posted = await fetch(`${base}/sign-in`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: `_csrf=${token}&email=eve@example.com`,
      redirect: "manual",
    });
    expect(posted.status).toBe(404);
  });

  it("signs in from the trusted header sent by a listed proxy", async () => {
    const page = await fetch(`${base}/`, {
      headers: { "x-forwarded-email": "grace@example.com" },
      redirect: "manual",
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("grace@example.com");
    // The session it set works for the API too, while the proxy still vouches for her.
    const cookie = page.headers.get("set-cookie")?.split(";")[0] ?? "";
    const api = await fetch(`${base}/api/v1/agents`, {
      headers: { cookie, "x-forwarded-email": "grace@example.com" },
    });
    expect(api.status).toBe(200);
    const anonymous = await fetch(`${base}/`, { redirect: "manual" });
    expect(anonymous.status).toBe(303);
  });

  it("marks cookies Secure when the trusted proxy says the browser came over https", async () => {
    const plain = await fetch(`${base}/sign-in`);
    expect(plain.headers.get("set-cookie")).not.toContain("Secure");
    const overTls = await fetch(`${base}/sign-in`, { headers: { "x-forwarded-proto": "https" } });
    expect(overTls.headers.get("set-cookie")).toContain("; Secure");
  });
});

/**
 * `switchboard sessions` beside a running `serve` on PostgreSQL (PGlite is one process only),
 * with people signed in by an SSO proxy's header.
 */
describe("switchboard sessions", { timeout: 90_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-sessions-"));
  let database: TestDatabase;
  let env: Record<string, string>;
  let server: SwitchboardProcess;
  let base: string;
  const vouch = (email: string) => ({ "x-forwarded-email": email });

  beforeAll(async () => {
    database = await createTestDatabase("sessions_cli");
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      DATABASE_URL: database.url,
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      AUTH_TRUSTED_HEADER: "x-forwarded-email",
      AUTH_TRUSTED_PROXIES: "127.0.0.1",
    };
    server = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    await server.waitFor(`${base}/readyz`);
  }, 90_000);

  afterAll(async () => {
    await server?.kill();
    await database?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  const signedIn = async (email: string) => {
    const page = await fetch(`${base}/`, { headers: vouch(email), redirect: "manual" });
    expect(page.status).toBe(200);
    return page.headers.get("set-cookie")?.split(";")[0] ?? "";
  };
  const api = (cookie: string, email: string) =>
    fetch(`${base}/api/v1/agents`, { headers: { cookie, ...vouch(email) } });

  it("lists who is signed in, and revokes a person's sessions so their cookies stop working", async () => {
    const [ivy, ivyAgain, joe] = [
      await signedIn("ivy@example.com"),
      await signedIn("ivy@example.com"),
      await signedIn("joe@example.com"),
    ];
    const listed = await runSwitchboard(["sessions", "list"], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/ivy@example\.com\s+trusted_header/);
    expect(listed.stdout).toContain("joe@example.com");

    const revoked = await runSwitchboard(["sessions", "revoke", "--user", "ivy@example.com"], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain("revoked  2 sessions of ivy@example.com");
    for (const cookie of [ivy, ivyAgain]) {
      expect((await api(cookie, "ivy@example.com")).status).toBe(401);
    }
    expect((await api(joe, "joe@example.com")).status).toBe(200);
    const mine = await runSwitchboard(["sessions", "list", "--user", "ivy@example.com"], env);
    expect(mine.stdout).toContain("ivy@example.com is not signed in anywhere.");

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        "select actor, target_id, details from audit_log where action = 'site_session.revoked'",
      );
      expect(rows).toEqual([
        { actor: "system:cli", target_id: "ivy@example.com", details: { sessions: 2 } },
      ]);
    } finally {
      await client.end();
    }
  });

  it("says what it needs: a session id or --user, not neither", async () => {
    const result = await runSwitchboard(["sessions", "revoke"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("give a session id (from `sessions list`) or --user EMAIL");
  });
});
