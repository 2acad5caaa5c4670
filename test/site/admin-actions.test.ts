import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";
import { cspViolations, DESKTOP, findChromium, launchChromium, screenshot } from "./browser.js";

/**
 * The admin page acts, in Chromium against `switchboard serve` on its embedded database: a
 * platform admin suspends and enables the demo agent, grants and revokes run access, refuses
 * bad input in words, makes someone a platform admin, and sees each change in the audit list.
 * Then the server restarts with the same SWITCHBOARD_ADMINS: the admin made on the page is
 * still one (the list only adds), and the last admin cannot be removed.
 */

const chromiumPath = findChromium();

describe.runIf(chromiumPath)("the admin page's actions in Chromium", { timeout: 180_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-admin-actions-"));
  let env: Record<string, string>;
  let server: SwitchboardProcess;
  let base: string;
  let browser: Browser;
  const violations: string[] = [];

  async function start(): Promise<void> {
    server = new SwitchboardProcess(["serve"], env);
    await server.waitFor(`${base}/readyz`);
  }

  async function signIn(email: string): Promise<Page> {
    const context: BrowserContext = await browser.newContext({ viewport: DESKTOP });
    cspViolations(context, violations);
    const tab = await context.newPage();
    await tab.goto(`${base}/sign-in`);
    await tab.getByLabel("Email").fill(email);
    await tab.getByRole("button", { name: "Sign in" }).click();
    await tab.waitForURL(`${base}/`);
    return tab;
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      SWITCHBOARD_ADMINS: "ada@example.com",
      LOG_LEVEL: "warn",
      PORT: String(port),
      PUBLIC_URL: base,
    };
    await start();
    browser = await launchChromium(chromiumPath as string);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("suspends, enables, grants, revokes and makes an admin, each in the audit list", async () => {
    const ada = await signIn("ada@example.com");
    await ada.goto(`${base}/admin`);
    await ada.getByRole("button", { name: "Suspend demo" }).click();
    await expect
      .poll(() => ada.getByRole("status").first().innerText())
      .toContain("demo is now suspended");
    await ada.getByRole("button", { name: "Enable demo" }).click();
    await expect
      .poll(() => ada.getByRole("status").first().innerText())
      .toContain("demo is now enabled");

    const form = ada.locator("#access form");
    await form.getByLabel("Agent", { exact: true }).fill("demo");
    await form.getByLabel("To", { exact: true }).fill("bob@example.com");
    await form.getByRole("button", { name: "Grant" }).click();
    await expect
      .poll(() => ada.getByRole("status").first().innerText())
      .toContain("Granted runner on demo to user:bob@example.com");
    await form.getByLabel("Agent", { exact: true }).fill("demo");
    await form.getByLabel("To", { exact: true }).fill("bob@example.com");
    await form.getByRole("button", { name: "Revoke" }).click();
    await expect
      .poll(() => ada.getByRole("status").first().innerText())
      .toContain("Revoked runner on demo");

    // Input checked in words: an agent that does not exist, a person who is not an email.
    await form.getByLabel("Agent", { exact: true }).fill("no-such-agent");
    await form.getByLabel("To", { exact: true }).fill("bob@example.com");
    await form.getByRole("button", { name: "Grant" }).click();
    expect(await ada.locator("main").innerText()).toContain(
      'There is no agent called "no-such-agent"',
    );
    await ada.goto(`${base}/admin`);
    await form.getByLabel("Agent", { exact: true }).fill("demo");
    await form.getByLabel("To", { exact: true }).fill("bob");
    await form.getByRole("button", { name: "Grant" }).click();
    expect(await ada.locator("main").innerText()).toContain('"bob" is not an email address');

    await ada.goto(`${base}/admin`);
    await ada.locator("#platform-admins").getByLabel("Email").fill("Carol@Example.com");
    await ada.getByRole("button", { name: "Make platform admin" }).click();
    await expect
      .poll(() => ada.locator("#platform-admins").innerText())
      .toContain("carol@example.com");
    await screenshot(ada, "admin-actions");

    const log = await ada.locator("#audit").locator("xpath=..").innerText();
    for (const action of ["agent.suspended", "agent.enabled", "authz.granted", "authz.revoked"])
      expect(log).toContain(action);
    expect(log).toContain("platform:switchboard");
    expect(violations).toEqual([]);
  });

  it("keeps admins made on the page across a restart, and never removes the last one", async () => {
    await server.kill();
    await start();
    const carol = await signIn("carol@example.com");
    const page = await carol.goto(`${base}/admin`);
    expect(page?.status()).toBe(200);
    // Carol removes Ada, then cannot remove herself: she is the last.
    await carol.getByRole("button", { name: "Remove ada@example.com as platform admin" }).click();
    await expect
      .poll(() => carol.locator("#platform-admins").innerText())
      .not.toContain("ada@example.com");
    await carol.getByRole("button", { name: "Remove carol@example.com as platform admin" }).click();
    expect(await carol.locator("main").innerText()).toContain("last platform admin");
    // A restart adds Ada back (she is in SWITCHBOARD_ADMINS) and keeps Carol.
    await server.kill();
    await start();
    const again = await signIn("carol@example.com");
    await again.goto(`${base}/admin`);
    const admins = await again.locator("#platform-admins").innerText();
    expect(admins).toContain("ada@example.com");
    expect(admins).toContain("carol@example.com");
  });
});
