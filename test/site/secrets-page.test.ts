import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { freePort } from "../support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";
import { DESKTOP, findChromium, launchChromium, screenshot } from "./browser.js";

/**
 * The "Secrets" page in a real browser against `switchboard serve` on its embedded defaults
 * (the store's key file made on first use): an owner creates, updates, grants, revokes and
 * deletes; the value is never on a page; someone else sees and changes nothing.
 */

const chromiumPath = findChromium();
const VALUE = "ada-site-secret-value-7f3a9c";
const NEW_VALUE = "ada-site-secret-value-second-0b1d";

describe.runIf(chromiumPath)("the secrets page in Chromium", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-secrets-site-"));
  const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
  let server: SwitchboardProcess;
  let base: string;
  let browser: Browser;
  let page: Page;
  /** Every page Ada was shown, to look for the value in. */
  const shown: string[] = [];

  async function signIn(context: BrowserContext, email: string): Promise<Page> {
    const tab = await context.newPage();
    await tab.goto(`${base}/sign-in`);
    await tab.getByLabel("Email").fill(email);
    await tab.getByRole("button", { name: "Sign in" }).click();
    await tab.waitForURL(`${base}/`);
    return tab;
  }

  const remember = async () => shown.push(await page.content());

  beforeAll(async () => {
    const manifest = {
      apiVersion: "switchboard/v1",
      kind: "Agent",
      metadata: { name: "triage", title: "Triage", owner: "user:ada@example.com" },
      spec: {
        runtime: {
          type: "http",
          url: "http://127.0.0.1:9/agent",
          headers: { "X-Key": { secret: "triage-key" } },
        },
        access: { view: ["user:*"], run: ["user:ada@example.com"] },
      },
    };
    writeFileSync(join(root, "agents.yaml"), stringify(manifest));
    const applied = await runSwitchboard(["agents", "apply", join(root, "agents.yaml")], env);
    expect(applied.code, applied.stderr).toBe(0);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    await server.waitFor(`${base}/readyz`, 90_000);
    browser = await launchChromium(chromiumPath as string);
    page = await signIn(await browser.newContext({ viewport: DESKTOP }), "ada@example.com");
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("creates a secret from a password field, and never shows its value", async () => {
    await page.getByRole("link", { name: "Secrets" }).click();
    await page.waitForURL(`${base}/secrets`);
    await expect(page.getByText("You own no secrets yet.").isVisible()).resolves.toBe(true);
    expect(await page.locator("#new-value").getAttribute("type")).toBe("password");
    await page.getByLabel("Name").fill("Triage-Key");
    await page.getByLabel("Description", { exact: true }).fill("The triage agent's key");
    await page.locator("#new-value").fill(VALUE);
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/secrets\?done=created/);
    await expect(page.getByRole("status").innerText()).resolves.toBe(
      "Created the secret triage-key.",
    );
    await expect(page.locator("#secret-triage-key").innerText()).resolves.toBe("triage-key");
    await remember();
    await screenshot(page, "secrets");
  });

  it("grants it to an agent and revokes it", async () => {
    await page.locator("#grant-triage-key").fill("triage");
    await page.getByRole("button", { name: "Grant" }).click();
    await expect(page.getByRole("status").innerText()).resolves.toBe(
      "The agent triage may now use triage-key.",
    );
    await expect(page.locator(".secret-agents").innerText()).resolves.toContain("triage");
    await remember();
    await page.locator("#grant-triage-key").fill("no-such-agent");
    await page.getByRole("button", { name: "Grant" }).click();
    await expect(page.getByRole("alert").innerText()).resolves.toBe(
      'The agent "no-such-agent" was not found.',
    );
    await remember();
    await page.getByRole("button", { name: "Revoke" }).click();
    await expect(page.getByText("None yet: no agent's runs can use it.").isVisible()).resolves.toBe(
      true,
    );
    await remember();
  });

  it("takes a new value without showing the old or the new one", async () => {
    await page.getByText("Replace the value or the description").click();
    await page.locator("#value-triage-key").fill(NEW_VALUE);
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("status").innerText()).resolves.toBe(
      "Saved the secret triage-key.",
    );
    await expect(page.locator(".secret-facts").innerText()).resolves.toMatch(/Version\s+2/);
    await remember();
    // A refused form comes back without the value it carried.
    await page.getByLabel("Name").fill("triage-key");
    await page.getByLabel("Owner").fill("user:bob@example.com");
    await page.locator("#new-value").fill(VALUE);
    await page.getByRole("button", { name: "Create" }).click();
    await expect(page.getByRole("alert").innerText()).resolves.toMatch(/owner does not change/);
    expect(await page.locator("#new-value").inputValue()).toBe("");
    await remember();
    for (const text of shown) {
      expect(text).not.toContain(VALUE);
      expect(text).not.toContain(NEW_VALUE);
    }
  });

  it("shows someone else nothing of it, and lets them change nothing", async () => {
    const bob = await signIn(await browser.newContext({ viewport: DESKTOP }), "bob@example.com");
    await bob.goto(`${base}/secrets`);
    await expect(bob.getByText("You own no secrets yet.").isVisible()).resolves.toBe(true);
    expect(await bob.content()).not.toContain("triage-key");
    const token = await bob.locator('meta[name="csrf-token"]').getAttribute("content");
    const post = (path: string, form: Record<string, string>) =>
      bob.request.post(`${base}${path}`, { form, maxRedirects: 0 });
    const withoutToken = await post("/secrets/triage-key/delete", {});
    expect(withoutToken.status()).toBe(403);
    for (const [path, form] of [
      ["/secrets/triage-key/grants", { agent: "triage" }],
      ["/secrets/triage-key/grants/triage/revoke", {}],
      ["/secrets/triage-key/delete", {}],
    ] as const) {
      const refused = await post(path, { ...form, _csrf: token ?? "" });
      expect(refused.status(), path).toBe(404);
    }
    const overwrite = await post("/secrets", {
      _csrf: token ?? "",
      name: "triage-key",
      owner: "user:bob@example.com",
      value: "bobs-overwrite",
    });
    expect(overwrite.status()).toBe(409);
    await page.reload();
    await expect(page.locator(".secret-facts").innerText()).resolves.toMatch(/Version\s+2/);
  });

  it("deletes it", async () => {
    await page.getByRole("button", { name: "Delete" }).click();
    await expect(page.getByRole("status").innerText()).resolves.toBe(
      "Deleted the secret triage-key.",
    );
    await expect(page.getByText("You own no secrets yet.").isVisible()).resolves.toBe(true);
  });
});
