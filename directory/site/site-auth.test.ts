import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { UserDirectory } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import { AuditLog } from "../../governance/index.js";
import { readJson } from "../../test/support/http.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import type { CookieSecurity } from "./request-origin.js";
import { SESSION_COOKIE, SessionCookies } from "./session-cookie.js";
import {
  type SignInModes,
  type SiteAuth,
  sessionCookieStrategy,
  siteSession,
  startSession,
} from "./site-auth.js";
import { SiteSessions } from "./site-sessions.js";

/** The site's session middleware and API strategy over a real HTTP server and PostgreSQL. */

let database: TestDatabase;
let db: Database;
let sessions: SiteSessions;
let users: UserDirectory;

beforeAll(async () => {
  database = await createTestDatabase("site_auth");
  db = await openDatabase({ url: database.url, dataDir: "unused", poolMax: 2 });
  await migrateLatest(db);
  sessions = new SiteSessions(db.knex, new AuditLog(db.knex));
  users = new UserDirectory(db.knex);
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

const plain: CookieSecurity = { always: false, tlsProxies: [] };

/**
 * A site with `/` (who is signed in), `/api` (the API strategy's answer) and `/sign-in`
 * (signs in whoever `email` names, as a sign-in route does).
 */
async function serveWith(modes: SignInModes, security: CookieSecurity = plain) {
  const auth: SiteAuth = {
    cookies: new SessionCookies(undefined, security),
    sessions,
    users,
    modes,
  };
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post("/sign-in", siteSession(auth), async (req, res) => {
    const user = await users.ensureUser(String(req.body.email));
    await startSession(req, res, auth, user, "development");
    res.json({ csrf: auth.cookies.csrfToken(res.locals.session) });
  });
  app.all("/", siteSession(auth), (_req, res) => {
    res.json({ principal: res.locals.principal ?? null });
  });
  const strategy = sessionCookieStrategy(auth);
  app.all("/api", async (req, res, next) => {
    try {
      res.json({ principal: (await strategy(req)) ?? null });
    } catch (error) {
      next(error);
    }
  });
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
    res
      .status(isSwitchboardError(error) ? error.status : 500)
      .json({ code: (error as { code?: string }).code });
  });
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, auth };
}

const cookieOf = (response: Response) => response.headers.get("set-cookie")?.split(";")[0] ?? "";
const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});
/** Signs in through the test site's /sign-in, from an anonymous session's page as a browser would. */
async function signInAs(url: string, auth: SiteAuth, email: string) {
  const anonymous = cookieOf(await fetch(url));
  const before = auth.cookies.read(anonymous) as NonNullable<ReturnType<SessionCookies["read"]>>;
  const signIn = await fetch(`${url}sign-in`, {
    ...form({ _csrf: auth.cookies.csrfToken(before), email }),
    headers: { ...form({}).headers, cookie: anonymous },
  });
  expect(signIn.status).toBe(200);
  return { cookie: cookieOf(signIn), csrf: (await readJson(signIn)).csrf as string, before };
}

const principalAt = async (url: string, headers: Record<string, string>) =>
  (await readJson(await fetch(url, { headers }))).principal;

describe("siteSession", () => {
  it("believes the trusted header only from a trusted proxy", async () => {
    const trusted = await serveWith({
      development: false,
      trustedHeader: { header: "x-forwarded-email", proxies: ["127.0.0.1"] },
    });
    const signedIn = await fetch(trusted.url, {
      headers: { "x-forwarded-email": "Ada@Example.com" },
    });
    expect((await readJson(signedIn)).principal).toMatchObject({
      email: "ada@example.com",
      via: "site",
    });
    expect(signedIn.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Lax/);

    const untrusted = await serveWith({
      development: false,
      trustedHeader: { header: "x-forwarded-email", proxies: ["10.1.2.3"] },
    });
    const ignored = await fetch(untrusted.url, {
      headers: { "x-forwarded-email": "ada@example.com" },
    });
    expect((await readJson(ignored)).principal).toBeNull();
  });

  it("ends a header session once the proxy stops vouching for its person", async () => {
    const { url } = await serveWith({
      development: false,
      trustedHeader: { header: "x-forwarded-email", proxies: ["127.0.0.1"] },
    });
    const header = { "x-forwarded-email": "ida@example.com" };
    const cookie = cookieOf(await fetch(url, { headers: header }));
    expect(await principalAt(`${url}api`, { cookie, ...header })).toMatchObject({
      email: "ida@example.com",
    });
    // Another person named for the same cookie: the API does not take the cookie for them.
    expect(
      await principalAt(`${url}api`, { cookie, "x-forwarded-email": "jo@example.com" }),
    ).toBeNull();
    // No header: signed out, and the stored session is gone for good.
    expect(await principalAt(url, { cookie })).toBeNull();
    expect(await principalAt(`${url}api`, { cookie, ...header })).toBeNull();
  });

  it("refuses an unsafe method without the session's CSRF token, and accepts it with", async () => {
    const { url, auth } = await serveWith({ development: true });
    const first = await fetch(url);
    const cookie = cookieOf(first);
    const session = auth.cookies.read(cookie);
    expect(session).toMatchObject({ stored: false });
    const forged = await fetch(url, {
      ...form({ _csrf: "made-up" }),
      headers: { ...form({}).headers, cookie },
    });
    expect([forged.status, (await readJson(forged)).code]).toEqual([403, "csrf_failed"]);
    const token = auth.cookies.csrfToken(session as NonNullable<typeof session>);
    const good = await fetch(url, {
      ...form({ _csrf: token }),
      headers: { ...form({}).headers, cookie },
    });
    expect(good.status).toBe(200);
  });

  it("signs in with a new session id, and a replayed cookie finds nothing once it has ended", async () => {
    const { url, auth } = await serveWith({ development: true });
    const { cookie, before } = await signInAs(url, auth, "kim@example.com");
    const after = auth.cookies.read(cookie);
    expect(after).toMatchObject({ stored: true });
    expect(after?.sid).not.toBe(before.sid);
    expect(await principalAt(url, { cookie })).toMatchObject({ email: "kim@example.com" });
    await sessions.end(after?.sid as string);
    expect(await principalAt(url, { cookie })).toBeNull();
    expect(await principalAt(`${url}api`, { cookie })).toBeNull();
  });
});

describe("Secure cookies", () => {
  const secureOf = async (url: string, headers: Record<string, string> = {}) =>
    (await fetch(url, { headers })).headers.get("set-cookie")?.includes("; Secure");

  it("are Secure behind an https PUBLIC_URL, or when a trusted proxy says the request came over TLS", async () => {
    const always = await serveWith({ development: true }, { always: true, tlsProxies: [] });
    expect(await secureOf(always.url)).toBe(true);

    const proxied = await serveWith(
      { development: true },
      { always: false, tlsProxies: ["127.0.0.1"] },
    );
    expect(await secureOf(proxied.url)).toBe(false);
    expect(await secureOf(proxied.url, { "x-forwarded-proto": "https" })).toBe(true);

    // From anyone else the header is just words.
    const unproxied = await serveWith(
      { development: true },
      { always: false, tlsProxies: ["10.0.0.1"] },
    );
    expect(await secureOf(unproxied.url, { "x-forwarded-proto": "https" })).toBe(false);
  });

  it("ask browsers to stay on https (HSTS) only when the site is reached over TLS", async () => {
    const hstsOf = async (url: string, headers: Record<string, string> = {}) =>
      (await fetch(url, { headers })).headers.get("strict-transport-security");
    const always = await serveWith({ development: true }, { always: true, tlsProxies: [] });
    expect(await hstsOf(always.url)).toBe("max-age=31536000");
    const proxied = await serveWith(
      { development: true },
      { always: false, tlsProxies: ["127.0.0.1"] },
    );
    expect(await hstsOf(proxied.url)).toBeNull();
    expect(await hstsOf(proxied.url, { "x-forwarded-proto": "https" })).toBe("max-age=31536000");
  });
});

describe("SessionCookies", () => {
  it("rejects a tampered cookie and one signed with another key", () => {
    const cookies = new SessionCookies("a".repeat(32), plain);
    const session = cookies.anonymous();
    const cookie = cookies
      .serialize({ ...session, stored: { id: "1", method: "oidc" } })
      .split(";")[0] as string;
    expect(cookies.read(cookie)).toEqual({ sid: session.sid, iat: session.iat, stored: true });
    const [payload, signature] = cookie.slice(SESSION_COOKIE.length + 1).split(".");
    const forgedPayload = Buffer.from(
      JSON.stringify({
        sid: "chosen-by-attacker",
        iat: Math.floor(Date.now() / 1000),
        stored: true,
      }),
    ).toString("base64url");
    expect(cookies.read(`${SESSION_COOKIE}=${forgedPayload}.${signature}`)).toBeUndefined();
    expect(
      new SessionCookies("b".repeat(32), plain).read(`${SESSION_COOKIE}=${payload}.${signature}`),
    ).toBeUndefined();
  });
});

describe("sessionCookieStrategy", () => {
  it("passes on requests without a signed-in session, so API keys are tried", async () => {
    const { url, auth } = await serveWith({ development: true });
    expect(await principalAt(`${url}api`, {})).toBeNull();
    const anonymous = auth.cookies.serialize(auth.cookies.anonymous()).split(";")[0] as string;
    expect(await principalAt(`${url}api`, { cookie: anonymous })).toBeNull();
  });

  it("needs the CSRF header for unsafe methods", async () => {
    const { url, auth } = await serveWith({ development: true });
    const { cookie, csrf } = await signInAs(url, auth, "lee@example.com");
    const unsafe = await fetch(`${url}api`, { method: "DELETE", headers: { cookie } });
    expect([unsafe.status, (await readJson(unsafe)).code]).toEqual([403, "csrf_failed"]);
    const withToken = await fetch(`${url}api`, {
      method: "DELETE",
      headers: { cookie, "x-csrf-token": csrf },
    });
    expect((await readJson(withToken)).principal).toMatchObject({ email: "lee@example.com" });
  });
});
