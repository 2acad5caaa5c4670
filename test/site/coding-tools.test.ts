import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";
import { cspViolations, DESKTOP, findChromium, launchChromium, screenshot } from "./browser.js";

/**
 * The agent page's "Use from Claude Code / Cursor" in Chromium: the exact `claude mcp add`
 * line and Cursor's mcp.json with this Switchboard's MCP server, for people who may run the
 * agent; the key a placeholder, never a real one. PUBLIC_URL carries a quote and an
 * ampersand, which the page must show as they are and the shell line must quote.
 */

const chromiumPath = findChromium();

describe.runIf(chromiumPath)("the agent page's coding tools snippet", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-site-mcp-"));
  const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
  const PUBLIC_URL = "https://switchboard.example.com/it's&co";
  let server: SwitchboardProcess;
  let base: string;
  let browser: Browser;
  let key: string;
  const violations: string[] = [];

  async function signedIn(email: string): Promise<Page> {
    const context = await browser.newContext({ viewport: DESKTOP });
    cspViolations(context, violations);
    const tab = await context.newPage();
    await tab.goto(`${base}/sign-in`);
    await tab.getByLabel("Email").fill(email);
    await tab.getByRole("button", { name: "Sign in" }).click();
    await tab.waitForURL(`${base}/`);
    return tab;
  }

  beforeAll(async () => {
    const manifests = join(root, "agents.yaml");
    writeFileSync(
      manifests,
      `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: release-helper
  title: Release helper
  description: Drafts release notes from merged pull requests.
  owner: team:tools
spec:
  runtime: { type: demo }
  skills:
    - name: draft
      description: Drafts the notes.
      examples: ["Draft the notes for 4.2"]
  access:
    view: ["user:*"]
    run: ["user:ada@example.com"]
`,
    );
    const applied = await runSwitchboard(["agents", "apply", manifests], env);
    expect(applied.code, applied.stderr).toBe(0);
    const created = await runSwitchboard(["keys", "create", "--user", "ada@example.com"], env);
    key = created.stdout.trim().split("\n").at(-1) ?? "";
    expect(key).toMatch(/^sb_live_/);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], { ...env, PORT: String(port), PUBLIC_URL });
    await server.waitFor(`${base}/readyz`, 120_000);
    browser = await launchChromium(chromiumPath as string);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("shows the exact claude mcp add line and Cursor's mcp.json to someone who may run it", async () => {
    const page = await signedIn("ada@example.com");
    await page.goto(`${base}/agents/release-helper`);
    const section = page.locator("#use-from-coding-tools");
    await expect(section.getByRole("heading").innerText()).resolves.toBe(
      "Use from Claude Code / Cursor",
    );
    const mcpUrl = `${PUBLIC_URL}/mcp`;
    expect(await section.locator('pre[data-snippet="claude"]').innerText()).toBe(
      `claude mcp add --transport http switchboard 'https://switchboard.example.com/it'\\''s&co/mcp' --header "Authorization: Bearer <your key>"`,
    );
    expect(JSON.parse(await section.locator('pre[data-snippet="cursor"]').innerText())).toEqual({
      mcpServers: {
        switchboard: { url: mcpUrl, headers: { Authorization: "Bearer <your key>" } },
      },
    });
    expect(await section.innerText()).toContain("release-helper");
    // The person's own key exists, and is nowhere on the page: they put it in themselves.
    const html = await page.content();
    expect(html).not.toContain(key);
    expect(html).not.toMatch(/sb_live_/);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, "agent-coding-tools");
    expect(violations).toEqual([]);
  });

  it("shows nothing of the kind to someone who may only view it", async () => {
    const page = await signedIn("bob@example.com");
    await page.goto(`${base}/agents/release-helper`);
    await expect(page.locator("h1").innerText()).resolves.toBe("Release helper");
    expect(await page.locator("#use-from-coding-tools").count()).toBe(0);
  });
});
