import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal, UserDirectory } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import { readJson } from "../../test/support/http.js";
import { SESSION_COOKIE, SessionCookies } from "./session-cookie.js";
import { type SignInModes, sessionCookieStrategy, siteSession } from "./site-auth.js";

/** The site's session middleware and API strategy over a real HTTP server. */

const users = {
  ensureUser: async (email: string) => ({
    id: `id-${email}`,
    email,
    displayName: null,
    isActive: true,
  }),
} as unknown as UserDirectory;

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serveWith(modes: SignInModes, cookies = new SessionCookies(undefined, false)) {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.all("/", siteSession({ cookies, users, modes }), (_req, res) => {
    res.json({ principal: res.locals.principal ?? null });
  });
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
    res
      .status(isSwitchboardError(error) ? error.status : 500)
      .json({ code: (error as { code?: string }).code });
  });
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, cookies };
}

const cookieOf = (response: Response) => response.headers.get("set-cookie")?.split(";")[0] ?? "";

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

  it("refuses an unsafe method without the session's CSRF token, and accepts it with", async () => {
    const { url, cookies } = await serveWith({ development: true });
    const first = await fetch(url);
    const cookie = cookieOf(first);
    const session = cookies.read(cookie);
    expect(session).toBeDefined();
    const forged = await fetch(url, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "_csrf=made-up",
    });
    expect([forged.status, (await readJson(forged)).code]).toEqual([403, "csrf_failed"]);
    const good = await fetch(url, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: `_csrf=${cookies.csrfToken(session as NonNullable<typeof session>)}`,
    });
    expect(good.status).toBe(200);
  });
});

describe("SessionCookies", () => {
  it("rejects a tampered cookie and one signed with another key", () => {
    const cookies = new SessionCookies("a".repeat(32), true);
    const header = cookies.serialize(cookies.create({ id: "1", email: "ada@example.com" }));
    expect(header).toContain("; Secure");
    const cookie = header.split(";")[0] as string;
    expect(cookies.read(cookie)?.user?.email).toBe("ada@example.com");
    const [payload, signature] = cookie.slice(SESSION_COOKIE.length + 1).split(".");
    const forgedPayload = Buffer.from(
      JSON.stringify({
        sid: "x",
        iat: Math.floor(Date.now() / 1000),
        user: { id: "2", email: "eve@example.com" },
      }),
    ).toString("base64url");
    expect(cookies.read(`${SESSION_COOKIE}=${forgedPayload}.${signature}`)).toBeUndefined();
    expect(
      new SessionCookies("b".repeat(32), true).read(`${SESSION_COOKIE}=${payload}.${signature}`),
    ).toBeUndefined();
  });
});

describe("sessionCookieStrategy", () => {
  const cookies = new SessionCookies(undefined, false);
  const strategy = sessionCookieStrategy(cookies);
  const session = cookies.create({ id: "1", email: "ada@example.com" });
  const cookie = cookies.serialize(session).split(";")[0];
  const request = (method: string, headers: Record<string, string>) =>
    ({ method, headers }) as unknown as express.Request;

  it("passes on requests without a signed-in session, so API keys are tried", async () => {
    await expect(strategy(request("GET", {}))).resolves.toBeUndefined();
    const anonymous = cookies.serialize(cookies.create()).split(";")[0] as string;
    await expect(strategy(request("GET", { cookie: anonymous }))).resolves.toBeUndefined();
  });

  it("needs the CSRF header for unsafe methods", async () => {
    const principal: Principal | undefined = await strategy(
      request("GET", { cookie: cookie as string }),
    );
    expect(principal).toMatchObject({ kind: "user", email: "ada@example.com" });
    await expect(strategy(request("DELETE", { cookie: cookie as string }))).rejects.toMatchObject({
      code: "csrf_failed",
      status: 403,
    });
    await expect(
      strategy(
        request("DELETE", { cookie: cookie as string, "x-csrf-token": cookies.csrfToken(session) }),
      ),
    ).resolves.toMatchObject({ email: "ada@example.com" });
  });
});
