import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OidcProviderDouble, type SignInScenario } from "../doubles/oidc-provider.js";
import { freePort } from "../support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";
import { cspViolations, findChromium, launchChromium, screenshot } from "./browser.js";

/**
 * Sign-in with an OIDC issuer through the real `switchboard serve`, against a local provider
 * double, by following the redirects the way a browser does (cookies kept per host). The
 * issuer is down when the server starts and comes up during the tests: the sign-in page says
 * so meanwhile, and the other sign-in modes keep working.
 */

/** Just enough of a browser: one cookie jar (cookies ignore ports, as in browsers), no redirects followed for us. */
class Browser {
  private readonly jar = new Map<string, string>();

  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(url, { headers });
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
      redirect: "manual",
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const gone = attributes.some((a) => a.trim().toLowerCase() === "max-age=0");
      if (gone) this.jar.delete(name);
      else this.jar.set(name, pair.slice(at + 1));
    }
    return response;
  }

  has(name: string): boolean {
    return this.jar.has(name);
  }
}

const chromiumPath = findChromium();
if (!chromiumPath)
  console.log("skipped: the browser step of OIDC sign-in: chromium is not installed");

const location = (response: Response) => response.headers.get("location") ?? "";
const CLIENT = { clientId: "switchboard-site", clientSecret: "s3cret-of-the-site" };

describe("OIDC sign-in on switchboard serve", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-oidc-"));
  let server: SwitchboardProcess;
  let base: string;
  let issuerPort: number;
  let provider: OidcProviderDouble | undefined;

  beforeAll(async () => {
    const port = await freePort();
    issuerPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      PORT: String(port),
      PUBLIC_URL: base,
      OIDC_ISSUER_URL: `http://127.0.0.1:${issuerPort}`,
      OIDC_CLIENT_ID: CLIENT.clientId,
      OIDC_CLIENT_SECRET: CLIENT.clientSecret,
      AUTH_TRUSTED_HEADER: "x-forwarded-email",
      AUTH_TRUSTED_PROXIES: "127.0.0.1",
    });
    await server.waitFor(`${base}/readyz`);
  }, 90_000);

  afterEach(() => {
    // Every request the provider saw was one it expected (right client, redirect URI, PKCE).
    expect(provider?.unexpected ?? []).toEqual([]);
  });

  afterAll(async () => {
    await server?.kill();
    await provider?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Starts a sign-in, lets the provider answer with `scenario`, and returns the callback's response. */
  async function signIn(
    browser: Browser,
    scenario: SignInScenario = {},
    tamper?: (callback: URL) => void,
  ): Promise<Response> {
    const start = await browser.get(`${base}/auth/oidc?next=${encodeURIComponent("/?q=x")}`);
    expect(start.status).toBe(303);
    expect(location(start)).toContain(`127.0.0.1:${issuerPort}/authorize`);
    (provider as OidcProviderDouble).next = scenario;
    const authorize = await browser.get(location(start));
    expect(authorize.status).toBe(302);
    const callback = new URL(location(authorize));
    expect(callback.href.startsWith(`${base}/auth/callback?`)).toBe(true);
    tamper?.(callback);
    return browser.get(callback.href);
  }

  async function expectSignedOut(browser: Browser): Promise<void> {
    const catalog = await browser.get(`${base}/`);
    expect(catalog.status).toBe(303);
    expect(location(catalog)).toMatch(/^\/sign-in/);
  }

  it("says on the sign-in page that the issuer is down, and the trusted header still works", async () => {
    const browser = new Browser();
    const page = await browser.get(`${base}/sign-in`);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain(`Sign-in with 127.0.0.1:${issuerPort} is unavailable right now`);

    const start = await browser.get(`${base}/auth/oidc`);
    expect(start.status).toBe(503);
    expect(await start.text()).toContain("could not be reached");

    // No development form beside OIDC, even on the embedded database on loopback.
    expect(text).not.toContain('name="email"');
    const token = /name="csrf-token" content="([^"]+)"/.exec(text)?.[1] ?? "";
    const posted = await browser.request(`${base}/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
      body: `_csrf=${token}&email=dev@example.com&next=/`,
    });
    expect(posted.status).toBe(404);

    // The trusted header signs in, from the trusted proxy's address.
    const trusted = await new Browser().get(`${base}/`, { "x-forwarded-email": "sso@example.com" });
    expect(trusted.status).toBe(200);
    expect(await trusted.text()).toContain("sso@example.com");
  });

  it("offers the issuer once it answers, and signs in as the email it vouches for", async () => {
    provider = await OidcProviderDouble.start({ ...CLIENT, port: issuerPort });
    const browser = new Browser();
    const page = await (await browser.get(`${base}/sign-in?next=/admin`)).text();
    expect(page).toContain(`Sign in with 127.0.0.1:${issuerPort}`);
    expect(page).not.toContain("unavailable");

    const done = await signIn(browser, { claims: { email: "Ada@Example.com", sub: "ada-1" } });
    expect(done.status).toBe(303);
    expect(location(done)).toBe("/?q=x");
    expect(browser.has("switchboard_oidc")).toBe(false);
    const catalog = await browser.get(`${base}/`);
    expect(catalog.status).toBe(200);
    expect(await catalog.text()).toContain("ada@example.com");
    // The session works for the API as for the site.
    expect((await browser.get(`${base}/api/v1/agents`)).status).toBe(200);

    // The code went back with the client's secret and the PKCE verifier the provider checked.
    const [token] = provider.requestsTo("/token");
    expect(token?.form).toMatchObject({
      client_id: CLIENT.clientId,
      grant_type: "authorization_code",
    });
    expect(token?.form.code_verifier).toBeTruthy();
    expect(provider.requestsTo("/.well-known/openid-configuration")).toHaveLength(1);
  });

  it.skipIf(!chromiumPath)("signs in from a real browser by its button", async () => {
    const browser = await launchChromium(chromiumPath as string);
    try {
      const context = await browser.newContext();
      const violations = cspViolations(context);
      const page = await context.newPage();
      await page.goto(`${base}/agents/demo`);
      await page.waitForURL(/\/sign-in/);
      await screenshot(page, "sign-in-oidc");
      (provider as OidcProviderDouble).next = {
        claims: { email: "grace@example.com", sub: "g-1" },
      };
      await page.getByRole("link", { name: `Sign in with 127.0.0.1:${issuerPort}` }).click();
      // Back where they were going, signed in as the email the issuer vouched for.
      await page.waitForURL(`${base}/agents/demo`);
      expect(await page.locator(".account-email").textContent()).toBe("grace@example.com");
      // The round trip through the issuer broke none of the site's Content-Security-Policy.
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("refuses a callback whose state was tampered with, without asking the provider", async () => {
    const browser = new Browser();
    const before = provider?.requestsTo("/token").length;
    const done = await signIn(browser, {}, (callback) => {
      callback.searchParams.set("state", "forged-state");
    });
    expect(done.status).toBe(400);
    expect(await done.text()).toContain("does not belong to the sign-in this browser started");
    expect(provider?.requestsTo("/token").length).toBe(before);
    await expectSignedOut(browser);
  });

  it("refuses an ID token issued for another sign-in (wrong nonce)", async () => {
    const browser = new Browser();
    const done = await signIn(browser, { nonce: "someone-elses-nonce" });
    expect(done.status).toBe(400);
    expect(await done.text()).toContain("was not issued for this sign-in");
    await expectSignedOut(browser);
  });

  it("refuses a person whose email the issuer does not share, even from UserInfo", async () => {
    const browser = new Browser();
    const done = await signIn(browser, { claims: { email: null, email_verified: null } });
    expect(done.status).toBe(403);
    expect(await done.text()).toContain("did not share your email address");
    expect(provider?.requestsTo("/userinfo").length).toBeGreaterThan(0);
    await expectSignedOut(browser);
  });

  it("takes the email from UserInfo when the ID token leaves it out", async () => {
    const browser = new Browser();
    const done = await signIn(browser, {
      claims: { email: null, email_verified: null, sub: "bo-1" },
      userinfo: { email: "bo@example.com", email_verified: true },
    });
    expect(done.status).toBe(303);
    expect(await (await browser.get(`${base}/`)).text()).toContain("bo@example.com");
  });

  it("refuses an email the issuer has not verified", async () => {
    const browser = new Browser();
    const done = await signIn(browser, {
      claims: { email: "eve@example.com", email_verified: false },
    });
    expect(done.status).toBe(403);
    expect(await done.text()).toContain("is not verified");
    await expectSignedOut(browser);
  });

  it("shows the issuer's refusal when the person declines there", async () => {
    const browser = new Browser();
    const done = await signIn(browser, { deny: "access_denied" });
    expect(done.status).toBe(403);
    expect(await done.text()).toContain("did not sign you in (access_denied");
    await expectSignedOut(browser);
  });

  it("refuses a callback replayed, or opened in a browser that did not start the sign-in", async () => {
    const browser = new Browser();
    let callback = "";
    const done = await signIn(browser, { claims: { email: "cy@example.com" } }, (url) => {
      callback = url.href;
    });
    expect(done.status).toBe(303);
    for (const other of [new Browser(), browser]) {
      const replay = await other.get(callback);
      expect(replay.status).toBe(400);
      expect(await replay.text()).toContain("was not started in this browser");
    }
  });

  it("signs out", async () => {
    const browser = new Browser();
    expect((await signIn(browser, { claims: { email: "dee@example.com" } })).status).toBe(303);
    const page = await (await browser.get(`${base}/`)).text();
    const token = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? "";
    const out = await browser.request(`${base}/sign-out`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `_csrf=${token}`,
    });
    expect(out.status).toBe(303);
    await expectSignedOut(browser);
  });
});

describe("OIDC configuration", { timeout: 60_000 }, () => {
  it("refuses to start with OIDC_ISSUER_URL but no client id or public URL", async () => {
    const root = mkdtempSync(join(tmpdir(), "switchboard-oidc-config-"));
    try {
      const result = await runSwitchboard(["serve"], {
        SWITCHBOARD_DATA_DIR: join(root, "data"),
        PORT: "0",
        OIDC_ISSUER_URL: "https://login.example.com",
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("OIDC_CLIENT_ID: is required with OIDC_ISSUER_URL");
      expect(result.stderr).toContain("PUBLIC_URL: is required with OIDC_ISSUER_URL");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
