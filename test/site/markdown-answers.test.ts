import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";
import {
  cspViolations,
  DESKTOP,
  findChromium,
  launchChromium,
  screenshot,
  waitUntil,
} from "./browser.js";

/**
 * Answers and descriptions written in Markdown read as formatted text on the site, in a real
 * browser under the site's Content-Security-Policy: the chat panel (streamed as text, then
 * formatted by the server when the run ends), the session page, and the agent page. The demo
 * agent echoes what it is sent, so the message is the Markdown its answer carries.
 */

const chromiumPath = findChromium();
if (!chromiumPath && !process.env.CI) {
  console.log("Skipping the Markdown browser tests: no `chromium` on the PATH.");
}

const MANIFEST = `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: notes
  title: Release notes
  description: |
    Writes **release notes** from a list of changes.

    - reads the changes
    - groups them by area

    See [the guide](https://example.com/guide) or <img src=x onerror=alert(1)>.
  owner: team:switchboard
spec:
  runtime:
    type: demo
  skills:
    - name: summarise
      description: Turns a \`git log\` into *short* notes.
  access:
    view: ["user:*"]
    run: ["user:*"]
`;

/** The message; the answer quotes it, so it is the Markdown the answer shows. */
const MESSAGE = [
  "Here is the plan",
  "",
  "# Release plan",
  "",
  "- **first** item",
  "- second item",
  "",
  "```",
  "npm run check && npm test",
  "```",
  "",
  "Not loaded: ![tracker](https://tracker.example/p.png) <img src=x onerror=alert(1)> [x](javascript:alert(1))",
  "",
  "| Step | Command |",
  "| --- | --- |",
  `| check | ${"npm-run-check-".repeat(12)} |`,
  "",
  "Read [the docs](https://example.com/docs)",
].join("\n");

/** What a formatted answer shows, and what it must not. */
async function expectFormatted(answer: Locator): Promise<void> {
  await expect(answer.locator("h1").innerText()).resolves.toBe("Release plan");
  await expect(answer.locator("li").count()).resolves.toBe(2);
  await expect(answer.locator("li strong").innerText()).resolves.toBe("first");
  await expect(answer.locator("pre code").innerText()).resolves.toContain(
    "npm run check && npm test",
  );
  await expect(answer.locator("table td").count()).resolves.toBe(2);
  const docs = answer.locator('a[href="https://example.com/docs"]');
  await expect(docs.innerText()).resolves.toBe("the docs");
  await expect(docs.getAttribute("rel")).resolves.toBe("nofollow noopener noreferrer");
  await expect(docs.getAttribute("target")).resolves.toBeNull();
  // No image loads, no script link; the raw symbols are gone.
  await expect(answer.locator("img").count()).resolves.toBe(0);
  await expect(answer.locator('a[href^="javascript"]').count()).resolves.toBe(0);
  const text = await answer.innerText();
  expect(text).toContain("the docs (https://example.com/docs)");
  expect(text).toContain("Image: tracker (https://tracker.example/p.png)");
  expect(text).toContain("<img src=x onerror=alert(1)>");
  expect(text).not.toContain("**");
  expect(text).not.toMatch(/^#/m);
  expect(text).not.toContain("```");
}

describe.runIf(chromiumPath)("Markdown answers on the directory site", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-markdown-"));
  const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
  let server: SwitchboardProcess;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const violations: string[] = [];

  beforeAll(async () => {
    const manifests = join(root, "agents.yaml");
    writeFileSync(manifests, MANIFEST);
    const applied = await runSwitchboard(["agents", "apply", manifests], env);
    expect(applied.code, applied.stderr).toBe(0);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    await server.waitFor(`${base}/readyz`);
    browser = await launchChromium(chromiumPath as string);
    // A reader in Tokyo: times show in their clock, not the server's.
    context = await browser.newContext({
      viewport: DESKTOP,
      timezoneId: "Asia/Tokyo",
      locale: "en-US",
    });
    cspViolations(context, violations);
    page = await context.newPage();
    await page.goto(`${base}/sign-in`);
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("renders the agent's Markdown description on its page, safely", async () => {
    await page.goto(`${base}/agents/notes`);
    const lede = page.locator(".lede");
    await expect(lede.locator("strong").innerText()).resolves.toBe("release notes");
    await expect(lede.locator("li").count()).resolves.toBe(2);
    await expect(lede.locator("img").count()).resolves.toBe(0);
    const text = await lede.innerText();
    expect(text).toContain("the guide (https://example.com/guide)");
    expect(text).not.toContain("**");
    const skill = page.locator(".skill");
    await expect(skill.locator("code").innerText()).resolves.toBe("git log");
    await expect(skill.locator("em").innerText()).resolves.toBe("short");
  });

  it("formats a streamed answer once it is complete, in the chat panel", async () => {
    await page.goto(`${base}/agents/notes`);
    await page.getByLabel("Message to Release notes").fill(MESSAGE);
    await page.getByRole("button", { name: "Send" }).click();
    await waitUntil(
      page,
      `document.querySelector("[data-chat-log] .msg-agent .msg-text.markdown h1") !== null`,
    );
    await expectFormatted(page.locator("[data-chat-log] .msg-agent .msg-text"));
    await screenshot(page, "markdown-answer-chat");
  });

  it("formats the answer on the session page, with times in the reader's clock", async () => {
    await page.getByRole("link", { name: "open it on its own page" }).click();
    await page.waitForURL(/\/sessions\//);
    const turn = page.locator(".turn").first();
    await expectFormatted(turn.locator(".msg-agent .msg-text"));
    // Tokyo is UTC+9: the shown time says so; the UTC text stays as the tooltip.
    const asked = turn.locator("time").first();
    const datetime = (await asked.getAttribute("datetime")) as string;
    const tokyo = new Intl.DateTimeFormat("en-US", {
      timeZone: "Asia/Tokyo",
      hour: "2-digit",
      minute: "2-digit",
    }).format(new Date(datetime));
    const shown = await asked.innerText();
    expect(shown).toContain(tokyo);
    expect(shown).toMatch(/GMT\+9|JST/);
    await expect(asked.getAttribute("title")).resolves.toMatch(/UTC$/);
    // Attempt numbers wait behind "details".
    expect(await turn.innerText()).not.toContain("Attempt");
    await turn.getByText("details", { exact: true }).click();
    await expect(turn.innerText()).resolves.toMatch(/Attempt\s*1/);
    await screenshot(page, "markdown-answer-session");
  });

  it("reported no Content-Security-Policy violation", () => {
    expect(violations).toEqual([]);
  });
});
