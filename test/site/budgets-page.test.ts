import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { eventually } from "../support/eventually.js";
import { readJson } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";
import { DESKTOP, findChromium, launchChromium, screenshot } from "./browser.js";

/**
 * The "Budgets" page and the approvals inbox in a real browser against `switchboard serve`
 * on its embedded defaults: a platform admin sets a team's approval budget (a bad one is
 * refused in words), a member's run over it waits, the admin approves it from the inbox
 * and it runs; someone without the right sees nothing to decide and cannot set budgets.
 */

const chromiumPath = findChromium();

describe.runIf(chromiumPath)("budgets and approvals in Chromium", { timeout: 180_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-budgets-site-"));
  const env = {
    SWITCHBOARD_DATA_DIR: join(root, "data"),
    LOG_LEVEL: "warn",
    SWITCHBOARD_ADMINS: "root@example.com",
  };
  let server: SwitchboardProcess;
  let base: string;
  let browser: Browser;
  let admin: Page;
  let adaKey: string;

  async function signIn(context: BrowserContext, email: string): Promise<Page> {
    const tab = await context.newPage();
    await tab.goto(`${base}/sign-in`);
    await tab.getByLabel("Email").fill(email);
    await tab.getByRole("button", { name: "Sign in" }).click();
    await tab.waitForURL(`${base}/`);
    return tab;
  }

  beforeAll(async () => {
    const manifest = {
      apiVersion: "switchboard/v1",
      kind: "Agent",
      metadata: { name: "writer", title: "Writer", owner: "team:research" },
      spec: {
        runtime: { type: "demo" },
        access: { view: ["user:*"], run: ["user:*"] },
        limits: { max_cost_usd_per_run: 1 },
      },
    };
    writeFileSync(join(root, "agents.yaml"), stringify(manifest));
    const applied = await runSwitchboard(["agents", "apply", join(root, "agents.yaml")], env);
    expect(applied.code, applied.stderr).toBe(0);
    const key = await runSwitchboard(["keys", "create", "--user", "ada@example.com"], env);
    adaKey = key.stdout.trim().split("\n").at(-1) ?? "";
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    await server.waitFor(`${base}/readyz`, 90_000);
    browser = await launchChromium(chromiumPath as string);
    admin = await signIn(await browser.newContext({ viewport: DESKTOP }), "root@example.com");
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${base}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${adaKey}`, "content-type": "application/json" },
    });

  it("sets a team's approval budget, and refuses a bad one in words", async () => {
    await admin.getByRole("link", { name: "Budgets" }).click();
    await admin.waitForURL(`${base}/budgets`);
    await admin.getByLabel("Scope").fill("team:research");
    await admin.getByLabel("Amount (USD)").fill("0.5");
    await admin.getByLabel("Mode").selectOption("approval");
    await admin.getByRole("button", { name: "Save" }).click();
    await admin.waitForURL(/\/budgets\?done=saved/);
    await expect(admin.getByRole("status").innerText()).resolves.toBe("Saved the budget.");
    await expect(admin.locator("table").innerText()).resolves.toMatch(
      /team:research\s+month\s+\$0\.50\s+Approval: an approver decides\s+\$0\.00/,
    );
    await admin.getByLabel("Scope").fill("galaxy:far");
    await admin.getByLabel("Amount (USD)").fill("5");
    await admin.getByRole("button", { name: "Save" }).click();
    await expect(admin.getByRole("alert").innerText()).resolves.toContain("scope must be");
    await expect(admin.getByLabel("Scope").inputValue()).resolves.toBe("galaxy:far");
    await screenshot(admin, "budgets");
  });

  it("lets an approver start a held run from the inbox", async () => {
    const started = await api("/agents/writer/runs", {
      method: "POST",
      body: JSON.stringify({ input: "write the launch note" }),
    });
    const run = await readJson(started);
    expect(run).toMatchObject({ status: "needs_approval", approval_id: expect.any(String) });

    await admin.getByRole("link", { name: "Approvals" }).click();
    await admin.waitForURL(`${base}/approvals`);
    await expect(admin.locator(`#approval-${run.approval_id}`).innerText()).resolves.toBe(
      "ada@example.com asks to run writer",
    );
    await expect(admin.locator("blockquote").innerText()).resolves.toBe("write the launch note");
    await screenshot(admin, "approvals");
    await admin.getByRole("button", { name: "Approve" }).click();
    await admin.waitForURL(/\/approvals\?done=approved/);
    await expect(admin.getByText("Nothing waits for you.").isVisible()).resolves.toBe(true);
    await eventually(async () => {
      const now = await readJson(await api(`/runs/${run.id}`));
      expect(now.status).toBe("succeeded");
    }, 30_000);
  });

  it("shows someone without the right nothing to decide, and refuses their budget", async () => {
    const run = await readJson(
      await api("/agents/writer/runs", {
        method: "POST",
        body: JSON.stringify({ input: "again" }),
      }),
    );
    expect(run.status).toBe("needs_approval");
    const ada = await signIn(await browser.newContext({ viewport: DESKTOP }), "ada@example.com");
    await ada.goto(`${base}/approvals`);
    await expect(ada.getByText("Nothing waits for you.").isVisible()).resolves.toBe(true);
    await ada.goto(`${base}/budgets`);
    await expect(ada.getByText("No budgets you can see.").isVisible()).resolves.toBe(true);
    await ada.getByLabel("Scope").fill("team:research");
    await ada.getByLabel("Amount (USD)").fill("1000");
    await ada.getByRole("button", { name: "Save" }).click();
    await expect(ada.getByRole("alert").innerText()).resolves.toBe(
      "Only the admins of team:research and platform admins may change its budgets.",
    );
  });
});
