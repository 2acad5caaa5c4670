import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";
import { closeSiteClients, csrfTokenIn, developmentSignIn, siteRequest } from "./site-client.js";

/**
 * Forged or replayed sign-in, against real `switchboard serve` processes on the embedded
 * database: forged and replayed cookies, the development form reached by a DNS-rebinding page
 * or posted cross-site, a trusted header spoofed or its session's cookie replayed without it,
 * the development form offered beside another sign-in, and the site framed by another page.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-sec-sign-in-"));
/** Every process started, so each is stopped even when another failed to start. */
const started: SwitchboardProcess[] = [];

async function startServe(name: string, env: Record<string, string>) {
  const port = await freePort();
  const server = new SwitchboardProcess(["serve"], {
    SWITCHBOARD_DATA_DIR: join(root, name),
    LOG_LEVEL: "warn",
    PORT: String(port),
    ...env,
  });
  started.push(server);
  const base = `http://127.0.0.1:${port}`;
  // Three embedded databases created at once on a busy machine can take a while.
  await server.waitFor(`${base}/readyz`, 180_000);
  return { server, base, port };
}

type Serve = Awaited<ReturnType<typeof startServe>>;
let development: Serve;
let trusted: Serve;
let oidc: Serve;

beforeAll(async () => {
  [development, trusted, oidc] = await Promise.all([
    startServe("development", {}),
    startServe("trusted", {
      AUTH_TRUSTED_HEADER: "x-forwarded-email",
      AUTH_TRUSTED_PROXIES: "127.0.0.1",
    }),
    // An issuer that never answers: the sign-in page still renders, with OIDC as its way in.
    startServe("oidc", {
      OIDC_ISSUER_URL: "http://127.0.0.1:9/",
      OIDC_CLIENT_ID: "switchboard",
      PUBLIC_URL: "http://127.0.0.1:3000",
    }),
  ]);
}, 240_000);

afterAll(async () => {
  await closeSiteClients();
  await Promise.all(started.map((server) => server.kill()));
  rmSync(root, { recursive: true, force: true });
});

const signedOut = (answer: { status: number; location: string }) =>
  answer.status === 303 && answer.location.startsWith("/sign-in");

describe("the development form", { timeout: 60_000 }, () => {
  it("refuses a session cookie whose signature is forged", async () => {
    const cookie = await developmentSignIn(development.base, "ada@example.com");
    const [payload] = cookie.slice("switchboard_session=".length).split(".");
    const forged = `switchboard_session=${payload}.${"A".repeat(43)}`;
    expect(
      signedOut(await siteRequest(`${development.base}/`, { headers: { cookie: forged } })),
    ).toBe(true);
    const api = await siteRequest(`${development.base}/api/v1/agents`, {
      headers: { cookie: forged },
    });
    expect(api.status).toBe(401);
  });

  it("refuses a copied cookie replayed after its person signed out", async () => {
    const stolen = await developmentSignIn(development.base, "bob@example.com");
    const page = await siteRequest(`${development.base}/`, { headers: { cookie: stolen } });
    expect(page.status).toBe(200);
    expect(page.text).toContain("bob@example.com");
    const out = await siteRequest(`${development.base}/sign-out`, {
      method: "POST",
      headers: { cookie: stolen, origin: development.base },
      form: { _csrf: csrfTokenIn(page.text) },
    });
    expect(out.status).toBe(303);
    // The attacker's copy, taken before the sign-out, is worth nothing after it.
    expect(
      signedOut(await siteRequest(`${development.base}/`, { headers: { cookie: stolen } })),
    ).toBe(true);
    const api = await siteRequest(`${development.base}/api/v1/agents`, {
      headers: { cookie: stolen },
    });
    expect(api.status).toBe(401);
  });

  it("refuses a DNS-rebinding page: a request addressed to another host", async () => {
    const rebound = { host: `attacker.example:${development.port}` };
    const form = await siteRequest(`${development.base}/sign-in`, { headers: rebound });
    expect(form.status).toBe(403);
    expect(form.text).toContain("only at a loopback address");
    expect(form.text).not.toContain('name="email"');
    // Even with a session and token fetched from the real address, the post is refused.
    const page = await siteRequest(`${development.base}/sign-in`);
    const posted = await siteRequest(`${development.base}/sign-in`, {
      method: "POST",
      headers: { ...rebound, cookie: page.cookie, origin: `http://${rebound.host}` },
      form: { _csrf: csrfTokenIn(page.text), email: "root@example.com" },
    });
    expect(posted.status).toBe(403);
    expect(posted.cookie).toBe("");
    // The right address on another port is another server.
    const otherPort = await siteRequest(`${development.base}/sign-in`, {
      headers: { host: "127.0.0.1:1" },
    });
    expect(otherPort.status).toBe(403);
  });

  it("refuses a cross-site post, and one that says nothing of where it comes from", async () => {
    const page = await siteRequest(`${development.base}/sign-in`);
    const form = { _csrf: csrfTokenIn(page.text), email: "mallory@example.com" };
    const crossSite: Record<string, string>[] = [
      { origin: "http://attacker.example" },
      { origin: "null" },
      { referer: "http://attacker.example/rebind.html" },
      {},
    ];
    for (const headers of crossSite) {
      const posted = await siteRequest(`${development.base}/sign-in`, {
        method: "POST",
        headers: { cookie: page.cookie, ...headers },
        form,
      });
      expect([posted.status, JSON.stringify(headers)]).toEqual([403, JSON.stringify(headers)]);
      expect(posted.text).toContain("loopback");
    }
    // The same post from the site's own page (its Referer, as some browsers send instead) works.
    const own = await siteRequest(`${development.base}/sign-in`, {
      method: "POST",
      headers: { cookie: page.cookie, referer: `http://localhost:${development.port}/sign-in` },
      form,
    });
    expect(own.status).toBe(303);
  });

  it("refuses to be framed, so the chat box's ?prompt= cannot be clicked through", async () => {
    const cookie = await developmentSignIn(development.base, "ada@example.com");
    for (const path of ["/agents/demo?prompt=delete%20everything", "/sign-in", "/nowhere"]) {
      const answer = await siteRequest(`${development.base}${path}`, { headers: { cookie } });
      expect(answer.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(answer.headers["x-frame-options"]).toBe("DENY");
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    }
    // Pages run only the site's own script and post only to the site; the API loads nothing.
    const page = await siteRequest(`${development.base}/`, { headers: { cookie } });
    const policy = String(page.headers["content-security-policy"]);
    for (const directive of [
      "script-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "object-src 'none'",
    ]) {
      expect(policy).toContain(directive);
    }
    expect(policy).not.toContain("unsafe-inline");
    const api = await siteRequest(`${development.base}/api/v1/agents`, { headers: { cookie } });
    expect(api.headers["content-security-policy"]).toContain("default-src 'none'");
  });
});

describe("the trusted header", { timeout: 60_000 }, () => {
  const header = (email: string) => ({ "x-forwarded-email": email });

  it("is ignored from an address that is not a trusted proxy", async () => {
    const spoofed = await siteRequest(`${trusted.base}/`, {
      from: "127.0.0.2",
      headers: header("admin@example.com"),
    });
    expect(signedOut(spoofed)).toBe(true);
    expect(spoofed.text).not.toContain("admin@example.com");
  });

  it("does not take a header session's cookie alone, from another peer or without the header", async () => {
    const signedIn = await siteRequest(`${trusted.base}/`, {
      headers: header("grace@example.com"),
    });
    expect(signedIn.status).toBe(200);
    const cookie = signedIn.cookie;
    expect(cookie).not.toBe("");
    // The cookie replayed straight at the server, past the proxy.
    const direct = await siteRequest(`${trusted.base}/`, {
      from: "127.0.0.2",
      headers: { cookie },
    });
    expect(signedOut(direct)).toBe(true);
    const api = await siteRequest(`${trusted.base}/api/v1/agents`, {
      from: "127.0.0.2",
      headers: { cookie },
    });
    expect(api.status).toBe(401);

    // Through the proxy once it no longer vouches for her (she signed out at the SSO).
    const again = await siteRequest(`${trusted.base}/`, { headers: header("grace@example.com") });
    expect(again.status).toBe(200);
    const noHeader = await siteRequest(`${trusted.base}/`, { headers: { cookie: again.cookie } });
    expect(signedOut(noHeader)).toBe(true);
    // And the session is over, not just skipped: the header's return makes a new one.
    const afterwards = await siteRequest(`${trusted.base}/api/v1/agents`, {
      headers: { cookie: again.cookie, ...header("grace@example.com") },
    });
    expect(afterwards.status).toBe(401);

    // The proxy naming someone else is that someone else, whatever the cookie says.
    const third = await siteRequest(`${trusted.base}/`, { headers: header("grace@example.com") });
    const switched = await siteRequest(`${trusted.base}/`, {
      headers: { cookie: third.cookie, ...header("heidi@example.com") },
    });
    expect(switched.status).toBe(200);
    expect(switched.text).toContain("heidi@example.com");
    expect(switched.text).not.toContain("grace@example.com");
  });
});

describe("the development form beside another way to sign in", { timeout: 60_000 }, () => {
  for (const [label, serve] of [
    ["a trusted header", () => trusted],
    ["OIDC", () => oidc],
  ] as const) {
    it(`is not offered on loopback with the embedded database when ${label} is configured`, async () => {
      const { base } = serve();
      const page = await siteRequest(`${base}/sign-in`);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('name="email"');
      const posted = await siteRequest(`${base}/sign-in`, {
        method: "POST",
        headers: { cookie: page.cookie, origin: base },
        form: { _csrf: csrfTokenIn(page.text), email: "eve@example.com" },
      });
      expect(posted.status).toBe(404);
      expect(posted.cookie).toBe("");
    });
  }
});
