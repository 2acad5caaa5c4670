import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";
import {
  cspViolations,
  DESKTOP,
  findChromium,
  launchChromium,
  SCREENSHOTS,
  screenshot,
  waitUntil,
} from "./browser.js";
import { SITE_TEST_MANIFESTS } from "./manifests.js";

/**
 * The directory site in a real browser against a real `switchboard serve` (embedded
 * database, development sign-in), with agents applied from manifests by the CLI.
 */

const chromiumPath = findChromium();
if (!chromiumPath && !process.env.CI) {
  console.log(
    "Skipping the directory site's browser tests: no `chromium` on the PATH (apt-get install -y chromium).",
  );
}

it.runIf(!chromiumPath && process.env.CI)("finds Chromium in CI", () => {
  throw new Error(
    "`chromium` is not on the PATH: .ci/run installs it (apt-get install -y chromium).",
  );
});

describe.runIf(chromiumPath)("the directory site in Chromium", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-site-"));
  const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
  let server: SwitchboardProcess;
  let base: string;
  let browser: Browser;
  let ada: BrowserContext;
  let page: Page;
  /** Every CSP violation any page of the run reported: the site must work under its policy. */
  const violations: string[] = [];

  async function signIn(context: BrowserContext, email: string): Promise<Page> {
    const tab = await context.newPage();
    await tab.goto(`${base}/`);
    expect(new URL(tab.url()).pathname).toBe("/sign-in");
    await tab.getByLabel("Email").fill(email);
    await tab.getByRole("button", { name: "Sign in" }).click();
    await tab.waitForURL(`${base}/`);
    return tab;
  }

  /** A browser context whose pages' CSP violations are collected in `violations`. */
  async function newContext(options: { javaScriptEnabled?: boolean } = {}) {
    const context = await browser.newContext({ viewport: DESKTOP, ...options });
    cspViolations(context, violations);
    return context;
  }

  const cardTitles = (tab: Page) => tab.locator(".agent-card .card-title").allInnerTexts();

  beforeAll(async () => {
    const manifests = join(root, "agents.yaml");
    writeFileSync(manifests, SITE_TEST_MANIFESTS);
    const applied = await runSwitchboard(["agents", "apply", manifests], env);
    expect(applied.code, applied.stderr).toBe(0);
    const suspended = await runSwitchboard(
      ["agents", "suspend", "release-notes", "--reason", "rewriting its prompts"],
      env,
    );
    expect(suspended.code, suspended.stderr).toBe(0);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], {
      ...env,
      PORT: String(port),
      SWITCHBOARD_ADMINS: "admin@example.com",
    });
    await server.waitFor(`${base}/readyz`);
    browser = await launchChromium(chromiumPath as string);
    ada = await newContext();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("sends a signed-out visitor to sign in, and back to the catalog after", async () => {
    const visitor = await newContext();
    const tab = await visitor.newPage();
    await tab.goto(`${base}/agents/ticket-triage`);
    expect(new URL(tab.url()).pathname).toBe("/sign-in");
    await screenshot(tab, "sign-in");
    await tab.getByLabel("Email").fill("not an email");
    // Past the browser's own check of the field, to see the server's.
    await tab.evaluate("document.getElementById('email').type = 'text'");
    await tab.getByRole("button", { name: "Sign in" }).click();
    await expect(tab.getByRole("alert").innerText()).resolves.toContain("Enter an email address");
    await visitor.close();

    page = await signIn(ada, "ada@example.com");
    await expect(page.locator("h1").innerText()).resolves.toBe("Find an agent");
    await expect(page.locator(".account-email").innerText()).resolves.toBe("ada@example.com");
    const cookie = (await ada.cookies()).find((c) => c.name === "switchboard_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
  });

  it("lists only agents the person may view, with a suspended notice", async () => {
    expect((await cardTitles(page)).sort()).toEqual(
      expect.arrayContaining(["Invoice helper", "Release notes writer", "Ticket triage"]),
    );
    expect(await cardTitles(page)).not.toContain("Secret project");
    const suspended = page.locator(".agent-card", { hasText: "Release notes writer" });
    await expect(suspended.locator(".notice").innerText()).resolves.toContain(
      "rewriting its prompts",
    );
    // The hidden agent is tagged "support" too: the facet counts only what Ada may see.
    const supportFacet = page.locator(".facet-link", { hasText: "support" }).first();
    await expect(supportFacet.locator(".count").innerText()).resolves.toMatch(/^1\b/);
    // Ada is in no team: the catalog says who may register agents, and how to become one.
    await expect(page.locator("#registration").innerText()).resolves.toBe(
      "You may not register agents. Only members of a team and platform admins may register agents here: ask a platform admin to add you to a team.",
    );
    await screenshot(page, "catalog");
  });

  it("narrows the catalog as you type", async () => {
    await page.locator("#q").pressSequentially("invoice", { delay: 20 });
    await waitUntil(page, `document.querySelectorAll(".agent-card").length === 1`);
    expect(await cardTitles(page)).toEqual(["Invoice helper"]);
    expect(new URL(page.url()).searchParams.get("q")).toBe("invoice");
    await expect(page.locator("#search-status").textContent()).resolves.toContain("1 agent");
    await page.locator("#q").fill("");
    await page.locator("#q").dispatchEvent("input");
    await waitUntil(page, `document.querySelectorAll(".agent-card").length > 1`);
  });

  it("searches without JavaScript, through the plain GET form", async () => {
    const noScript = await newContext({ javaScriptEnabled: false });
    await noScript.addCookies(await ada.cookies());
    const tab = await noScript.newPage();
    await tab.goto(`${base}/`);
    await tab.locator("#q").fill("queue");
    await tab.getByRole("button", { name: "Search" }).click();
    await tab.waitForURL(/q=queue/);
    expect(await cardTitles(tab)).toEqual(["Ticket triage"]);
    await noScript.close();
  });

  it("filters by a facet", async () => {
    await page.goto(`${base}/`);
    await page.locator(".facet", { hasText: "Runtime" }).getByRole("link", { name: /n8n/ }).click();
    await page.waitForURL(/runtime=n8n/);
    expect(await cardTitles(page)).toEqual(["Invoice helper"]);
    await expect(page.locator(".facet-link.is-active").innerText()).resolves.toContain("n8n");
    await page.getByRole("link", { name: "Clear all filters" }).click();
    await page.waitForURL(`${base}/`);
    expect((await cardTitles(page)).length).toBeGreaterThan(1);
  });

  it("answers 404 for an agent the person may not view, as for one that does not exist", async () => {
    const hidden = await page.goto(`${base}/agents/secret-project`);
    expect(hidden?.status()).toBe(404);
    const hiddenText = await page.locator("main").innerText();
    await screenshot(page, "not-found");
    const missing = await page.goto(`${base}/agents/no-such-agent`);
    expect(missing?.status()).toBe(404);
    expect(await page.locator("main").innerText()).toBe(hiddenText);
    expect(hiddenText).not.toContain("Secret");
    // The API, called with the same session cookie, agrees.
    const api = await ada.request.get(`${base}/api/v1/agents/secret-project`);
    expect(api.status()).toBe(404);
    const list = await ada.request.get(`${base}/api/v1/agents?q=secret`);
    expect(list.status()).toBe(200);
    expect((await list.json()).items).toEqual([]);
  });

  it("works by keyboard alone: tab to search, type, tab to a card, Enter opens it", async () => {
    await page.goto(`${base}/`);
    const focused = () =>
      page.evaluate<string>("document.activeElement?.id || document.activeElement?.className");
    for (let i = 0; i < 15 && (await focused()) !== "q"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("q");
    await page.keyboard.type("triage", { delay: 20 });
    await waitUntil(page, `document.querySelectorAll(".agent-card").length === 1`);
    for (let i = 0; i < 30 && (await focused()) !== "card-link"; i++)
      await page.keyboard.press("Tab");
    expect(await focused()).toBe("card-link");
    await page.screenshot({ path: join(SCREENSHOTS, "catalog-keyboard-focus-desktop.png") });
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/agents/ticket-triage`);
    await expect(page.locator("h1").innerText()).resolves.toBe("Ticket triage");
  });

  it("shows an agent page with skills, contacts, who can run it and how to ask for access", async () => {
    await page.goto(`${base}/agents/ticket-triage`);
    const main = await page.locator("main").innerText();
    expect(main).toContain("How urgent is ticket 4411?");
    expect(main).toContain("Members of team support");
    expect(main).toContain("You can view this agent but not run it");
    expect(main).not.toContain("switchboard authz grant");
    expect(main).toContain("Usage in the last 30 days");
    // Asking the owners is a form on the page, not a command line; the request then shows.
    await page.getByLabel("Why do you need it?").fill("I triage the <night> queue");
    await page.getByRole("button", { name: "Request access" }).click();
    await page.waitForURL(`${base}/agents/ticket-triage#request-access`);
    await expect(page.locator("#request-access").locator("..").innerText()).resolves.toContain(
      "“I triage the <night> queue”. The owners decide",
    );
    await expect(
      page.getByRole("link", { name: "Email support-tooling@example.com" }).getAttribute("href"),
    ).resolves.toMatch(/^mailto:support-tooling@example\.com\?subject=/);
    // No chat integration is configured: no Slack or Teams links rather than broken ones.
    expect(main).not.toContain("Open in Slack");
    // Where other agents find it: its A2A card.
    expect(main).toContain("A2A card: /a2a/ticket-triage/.well-known/agent-card.json");
    await screenshot(page, "agent");
    // The requests inbox is in the navigation for everyone signed in: Ada owns no agent, so
    // nothing waits for her (her own request is the owners' to decide).
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Requests" })
      .click();
    await page.waitForURL(`${base}/requests`);
    expect(await page.locator("h1").innerText()).toBe("Access requests");
    expect(await page.locator("main").innerText()).toContain("Nothing waits for you.");
    await expect(
      page.getByRole("link", { name: "Requests" }).getAttribute("aria-current"),
    ).resolves.toBe("page");

    await page.goto(`${base}/agents/invoice-helper`);
    expect(await page.locator("main").innerText()).toContain("You can run this agent.");
    await page.goto(`${base}/agents/release-notes`);
    await expect(page.locator(".notice-suspended").innerText()).resolves.toContain(
      "rewriting its prompts",
    );
  });

  it("refuses forged POSTs that lack the session's CSRF token", async () => {
    const signOut = await ada.request.post(`${base}/sign-out`, { form: { _csrf: "forged" } });
    expect(signOut.status()).toBe(403);
    const create = await ada.request.post(`${base}/api/v1/agents`, { data: { kind: "Agent" } });
    expect(create.status()).toBe(403);
    expect((await create.json()).error.code).toBe("csrf_failed");
    // With the page's token the same request gets past the check (and fails validation).
    await page.goto(`${base}/`);
    const token = await page.locator('meta[name="csrf-token"]').getAttribute("content");
    const withToken = await ada.request.post(`${base}/api/v1/agents`, {
      data: { kind: "Agent" },
      headers: { "x-csrf-token": token ?? "" },
    });
    expect(withToken.status()).toBe(400);
    // Still signed in: the forged sign-out did nothing.
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe("/");
  });

  it("shows admin only to platform admins: agents by state and the audit log", async () => {
    const notAdmin = await page.goto(`${base}/admin`);
    expect(notAdmin?.status()).toBe(404);
    expect(await page.getByRole("link", { name: "Admin" }).count()).toBe(0);

    const admin = await newContext();
    const tab = await signIn(admin, "admin@example.com");
    await expect(tab.locator("#registration").innerText()).resolves.toMatch(
      /^You may register agents/,
    );
    await tab.getByRole("link", { name: "Admin" }).click();
    await tab.waitForURL(`${base}/admin`);
    await expect(tab.locator("#registration").innerText()).resolves.toBe(
      "Who may register agents: members of a team and platform admins (AGENT_REGISTRATION).",
    );
    const suspended = tab.locator("section", { has: tab.locator("#state-suspended") });
    await expect(suspended.innerText()).resolves.toContain("Release notes writer");
    const audit = await tab.locator("section", { has: tab.locator("#audit") }).innerText();
    expect(audit).toContain("agent.suspended");
    expect(audit).toContain("system:cli");
    await screenshot(tab, "admin");
    await admin.close();
  });

  it("lists signed-in sessions to admins, who can sign a person out everywhere", async () => {
    const bob = await newContext();
    const bobTab = await signIn(bob, "bob@example.com");
    const admin = await newContext();
    const tab = await signIn(admin, "admin@example.com");
    await tab.goto(`${base}/admin`);
    const list = tab.locator("#sessions");
    const rows = await list.locator("tbody tr").allInnerTexts();
    for (const email of ["ada@example.com", "bob@example.com", "admin@example.com"]) {
      expect(rows.some((row) => row.includes(email) && row.includes("Development form"))).toBe(
        true,
      );
    }
    expect(await list.innerText()).toContain("127.0.0.1");
    await list.screenshot({ path: join(SCREENSHOTS, "admin-sessions-desktop.png") });
    await screenshot(tab, "admin-with-sessions");

    // A person who is not an admin cannot end anyone's session, even with a good token.
    await page.goto(`${base}/`);
    const token = (await page.locator('meta[name="csrf-token"]').getAttribute("content")) ?? "";
    const refused = await ada.request.post(`${base}/admin/sessions/revoke`, {
      form: { _csrf: token, user: "bob@example.com" },
    });
    expect(refused.status()).toBe(404);

    // Nor can a page elsewhere make the admin's browser do it: no token, no change.
    const forged = await admin.request.post(`${base}/admin/sessions/revoke`, {
      form: { user: "bob@example.com" },
    });
    expect(forged.status()).toBe(403);
    expect(await tab.reload().then(() => list.innerText())).toContain("bob@example.com");

    await tab.getByRole("button", { name: "End all sessions of bob@example.com" }).click();
    await tab.waitForURL(/\/admin\?ended=1#sessions$/);
    await expect(tab.getByRole("status").first().innerText()).resolves.toBe("Ended 1 session.");
    expect(await tab.locator("#sessions").innerText()).not.toContain("bob@example.com");
    const audit = await tab.locator("section", { has: tab.locator("#audit") }).innerText();
    expect(audit).toContain("site_session.revoked");
    expect(audit).toContain("user:admin@example.com");
    // Bob's browser is signed out at its next request.
    await bobTab.reload();
    expect(new URL(bobTab.url()).pathname).toBe("/sign-in");
    await Promise.all([bob.close(), admin.close()]);
  });

  it("serves its own SVG favicon, under the site's img-src 'self'", async () => {
    await page.goto(`${base}/`);
    const href = await page.locator('link[rel="icon"]').getAttribute("href");
    expect(href).toBe("/assets/favicon.svg");
    for (const path of ["/assets/favicon.svg", "/favicon.ico"]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
      expect(await response.text()).not.toMatch(/<script|on\w+=/i);
    }
  });

  it("refuses to be framed by another site", async () => {
    const framing: Server = createServer((_req, res) => {
      res.setHeader("content-type", "text/html");
      res.end(
        `<!doctype html><title>Win a prize</title><iframe src="${base}/agents/invoice-helper?prompt=Pay%20invoice%2099" width="800" height="600"></iframe>`,
      );
    });
    await new Promise<void>((resolve) => framing.listen(0, "127.0.0.1", resolve));
    const attacker = await browser.newContext({ viewport: DESKTOP });
    await attacker.addCookies(await ada.cookies());
    const refusals = cspViolations(attacker);
    try {
      const tab = await attacker.newPage();
      const { port } = framing.address() as { port: number };
      // Another origin than the site's (localhost, not 127.0.0.1, and another port).
      await tab.goto(`http://localhost:${port}/`);
      await tab.waitForTimeout(1000);
      const frame = tab.frames().find((f) => f !== tab.mainFrame());
      expect(frame).toBeDefined();
      expect(await frame?.locator("textarea").count()).toBe(0);
      expect(refusals.join("\n")).toContain("frame-ancestors 'none'");
    } finally {
      await attacker.close();
      await new Promise((resolve) => framing.close(resolve));
    }
  });

  it("signs out, and a copy of the cookie taken before is refused after", async () => {
    await page.goto(`${base}/`);
    const copied = await ada.cookies();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in$/);
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    const thief = await newContext();
    await thief.addCookies(copied);
    const tab = await thief.newPage();
    await tab.goto(`${base}/`);
    expect(new URL(tab.url()).pathname).toBe("/sign-in");
    await thief.close();
  });

  it("reported no Content-Security-Policy violation on any page", () => {
    expect(violations).toEqual([]);
  });
});
