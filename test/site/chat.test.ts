import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
import { CHAT_TEST_MANIFESTS } from "./chat-manifests.js";

/**
 * The chat panel, "My sessions" and the usage charts in a real browser against a real
 * `switchboard serve` (embedded database, in-process runs), driving the built-in demo agent.
 */

const chromiumPath = findChromium();
if (!chromiumPath && !process.env.CI) {
  console.log("Skipping the chat browser tests: no `chromium` on the PATH.");
}

const demoAnswer = (input: string, turn: number) =>
  `You said: "${input}". This is turn ${turn} of our conversation.`;

describe.runIf(chromiumPath)(
  "chatting with agents on the directory site",
  { timeout: 120_000 },
  () => {
    const root = mkdtempSync(join(tmpdir(), "switchboard-chat-"));
    const env = {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      // One try: the unreachable agent fails at once instead of after retries.
      RUN_MAX_ATTEMPTS: "1",
    };
    let server: SwitchboardProcess;
    let base: string;
    let browser: Browser;
    let ada: BrowserContext;
    let page: Page;
    let sessionUrl = "";
    /** Every CSP violation a page reported: the chat must stream under the site's policy. */
    const violations: string[] = [];

    async function signIn(context: BrowserContext, email: string): Promise<Page> {
      const tab = await context.newPage();
      await tab.goto(`${base}/sign-in`);
      await tab.getByLabel("Email").fill(email);
      await tab.getByRole("button", { name: "Sign in" }).click();
      await tab.waitForURL(`${base}/`);
      return tab;
    }

    const answers = (tab: Page) => tab.locator("[data-chat-log] .msg-agent .msg-text");
    const status = (tab: Page) => tab.locator("[data-chat-status]");
    /** Waits for the current run to end, and answers the status line ("Finished in 0.4 s · cost $0.00"). */
    async function settled(tab: Page): Promise<string> {
      await waitUntil(
        tab,
        `/^(Finished|Failed|Stopped)\\b.*cost/.test(document.querySelector("[data-chat-status]").textContent)`,
      );
      return status(tab).innerText();
    }

    beforeAll(async () => {
      const manifests = join(root, "agents.yaml");
      writeFileSync(manifests, CHAT_TEST_MANIFESTS);
      const applied = await runSwitchboard(["agents", "apply", manifests], env);
      expect(applied.code, applied.stderr).toBe(0);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = new SwitchboardProcess(["serve"], {
        ...env,
        PORT: String(port),
        SLACK_APP_ID: "A123ABC456",
        SLACK_TEAM_ID: "T024BE7LD",
        TEAMS_APP_ID: "b9cc7986-dd56-4b57-ab7d-9c4e5288b775",
        TEAMS_APP_PASSWORD: "not-used-by-this-test",
        TEAMS_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      });
      await server.waitFor(`${base}/readyz`);
      browser = await launchChromium(chromiumPath as string);
      ada = await browser.newContext({ viewport: DESKTOP });
      cspViolations(ada, violations);
      page = await signIn(ada, "ada@example.com");
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await server?.kill();
      rmSync(root, { recursive: true, force: true });
    });

    it("streams the demo agent's answer into the page as it is written, then shows its cost", async () => {
      await page.goto(`${base}/agents/demo`);
      const panel = page.getByRole("region", { name: "Chat with Demo agent" });
      await expect(panel.isVisible()).resolves.toBe(true);
      // An example prompt fills the message box.
      await page.getByRole("link", { name: /Hello, Switchboard!/ }).click();
      await expect(page.getByLabel("Message to Demo agent").inputValue()).resolves.toBe(
        "Hello, Switchboard!",
      );
      // Every text the answer shows, as the page shows it.
      await page.evaluate(`(() => {
      window.seen = [];
      const log = document.querySelector("[data-chat-log]");
      new MutationObserver(() => {
        const answer = [...log.querySelectorAll(".msg-agent .msg-text")].at(-1);
        const text = answer ? answer.textContent : "";
        if (text && window.seen.at(-1) !== text) window.seen.push(text);
      }).observe(log, { childList: true, subtree: true, characterData: true });
    })()`);
      await page.getByRole("button", { name: "Send" }).click();
      // The person's message appears at once, with a working indicator.
      await expect(page.locator("[data-chat-log] .msg-user").innerText()).resolves.toContain(
        "Hello, Switchboard!",
      );
      expect(await settled(page)).toMatch(/^Finished in \d+\.\d s · cost \$0\.00$/);
      const final = demoAnswer("Hello, Switchboard!", 1);
      await expect(answers(page).last().innerText()).resolves.toBe(final);
      const seen = await page.evaluate<string[]>("window.seen");
      const before = seen.slice(0, seen.lastIndexOf(final));
      // At least two partial answers, each longer than the one before, all beginnings of the answer.
      expect(before.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);
      for (const [i, text] of before.entries()) {
        expect(final.startsWith(text.trimEnd())).toBe(true);
        if (i > 0) expect(text.length).toBeGreaterThan((before[i - 1] ?? "").length);
      }
      await expect(page.locator(".msg-agent.is-working").count()).resolves.toBe(0);
    });

    it("continues the same session with the next message", async () => {
      const box = page.getByLabel("Message to Demo agent");
      await box.fill("And once more");
      await box.press("Enter");
      await settled(page);
      await expect(answers(page).last().innerText()).resolves.toBe(demoAnswer("And once more", 2));
      const link = page.getByRole("link", { name: "open it on its own page" });
      sessionUrl = new URL((await link.getAttribute("href")) ?? "", base).toString();
      expect(sessionUrl).toMatch(/\/sessions\/[0-9a-f-]{36}$/);
      // Slack and Teams are configured: their links open the Switchboard app.
      await expect(
        page.getByRole("link", { name: "Open in Slack" }).getAttribute("href"),
      ).resolves.toBe("https://slack.com/app_redirect?app=A123ABC456&team=T024BE7LD");
      await expect(
        page.getByRole("link", { name: "Open in Teams" }).getAttribute("href"),
      ).resolves.toBe(
        "https://teams.microsoft.com/l/chat/0/0?users=28:b9cc7986-dd56-4b57-ab7d-9c4e5288b775",
      );
      await page.locator("#chat").scrollIntoViewIfNeeded();
      await screenshot(page, "agent-chat");
    });

    it("starts over with New conversation", async () => {
      await page.getByRole("link", { name: "New conversation" }).click();
      await expect(page.locator("[data-chat-log] li").count()).resolves.toBe(0);
      await page.getByLabel("Message to Demo agent").fill("Fresh start");
      await page.getByRole("button", { name: "Send" }).click();
      await settled(page);
      await expect(answers(page).last().innerText()).resolves.toBe(demoAnswer("Fresh start", 1));
    });

    it("stops a slow run with Stop", async () => {
      await page.goto(`${base}/agents/slow-demo`);
      await page.getByLabel("Message to Slow demo").fill("Take your time with this one");
      await page.getByRole("button", { name: "Send" }).click();
      const stop = page.getByRole("button", { name: "Stop" });
      // Stop once the answer has begun, so the run is really running.
      await waitUntil(
        page,
        `document.querySelector("[data-chat-log] .msg-agent .msg-text")?.textContent.length > 0`,
      );
      // While it works: the answer marked busy, a status line, and Stop.
      await expect(page.locator(".msg-agent.is-working[aria-busy=true]").count()).resolves.toBe(1);
      await expect(status(page).innerText()).resolves.toBe("Answering…");
      await expect(stop.isVisible()).resolves.toBe(true);
      await page.locator("#chat").screenshot({
        path: join(SCREENSHOTS, "agent-chat-streaming-desktop.png"),
      });
      await stop.click();
      expect(await settled(page)).toMatch(/^Stopped\b/);
      const text = await answers(page).last().innerText();
      expect(text).toMatch(/\(stopped\)$/);
      expect(text).not.toContain("This is turn 1");
      await expect(stop.isVisible()).resolves.toBe(false);
    });

    it("says in plain words why a run failed", async () => {
      await page.goto(`${base}/agents/unreachable`);
      await page.getByLabel("Message to Unreachable agent").fill("Are you there?");
      await page.getByRole("button", { name: "Send" }).click();
      expect(await settled(page)).toMatch(/^Failed\b/);
      const failed = page.locator("[data-chat-log] .msg-failed");
      await expect(failed.innerText()).resolves.toMatch(/The run failed: \S/);
      await screenshot(page, "agent-chat-failed");
    });

    it("lists the conversations under My sessions, and shows one turn by turn", async () => {
      await page.goto(`${base}/`);
      await page.getByRole("link", { name: "My sessions" }).click();
      await page.waitForURL(`${base}/sessions`);
      const rows = page.locator(".sessions-table tbody tr");
      const texts = await rows.allInnerTexts();
      expect(texts.length).toBe(4);
      // Newest activity first: the failed run was the last.
      expect(texts[0]).toContain("Are you there?");
      const first = texts.find((t) => t.includes("Hello, Switchboard!")) ?? "";
      expect(first).toContain("demo");
      expect(first).toContain("Directory site");
      // In the reader's clock (site.js), e.g. "Dec 6, 2026, 04:47 AM UTC".
      expect(first).toMatch(/[A-Z][a-z]{2} \d{1,2}, \d{4},? \d\d:\d\d/);
      await screenshot(page, "sessions");

      await page.getByRole("link", { name: "Hello, Switchboard!" }).click();
      await page.waitForURL(sessionUrl);
      const turns = page.locator(".turn");
      await expect(turns.count()).resolves.toBe(2);
      const second = await turns.nth(1).innerText();
      expect(second).toContain("And once more");
      expect(second).toContain(demoAnswer("And once more", 2));
      expect(second).toMatch(/Status\s*Succeeded/);
      // Engineer detail waits behind a "details" toggle.
      expect(second).not.toMatch(/Attempt/);
      await turns.nth(1).getByText("details", { exact: true }).click();
      expect(await turns.nth(1).innerText()).toMatch(/Attempt\s*1/);
      expect(second).toMatch(/Cost\s*\$0\.00/);
      expect(second).toMatch(/Finished\s*[A-Z][a-z]{2} \d{1,2}, \d{4},? \d\d:\d\d.* \(\d+\.\d s\)/);

      // The same chat panel carries the conversation on from here.
      await page.getByLabel("Message to Demo agent").fill("Still there?");
      await page.getByLabel("Message to Demo agent").press("Enter");
      await settled(page);
      await expect(answers(page).last().innerText()).resolves.toBe(demoAnswer("Still there?", 3));
      await page.reload();
      await expect(page.locator(".turn").count()).resolves.toBe(3);
      await screenshot(page, "session");
    });

    it("shows a stopped and a failed turn for what they were", async () => {
      await page.goto(`${base}/sessions`);
      await page.getByRole("link", { name: "Take your time with this one" }).click();
      await expect(page.locator(".turn").innerText()).resolves.toMatch(/Status\s*Stopped/);
      await page.goto(`${base}/sessions`);
      await page.getByRole("link", { name: "Are you there?" }).click();
      const turn = await page.locator(".turn").innerText();
      expect(turn).toMatch(/Status\s*Failed/);
      expect(turn).toMatch(/The run failed: \S/);
    });

    it("answers 404 for someone else's session, and lists only one's own", async () => {
      const grace = await browser.newContext({ viewport: DESKTOP });
      cspViolations(grace, violations);
      const tab = await signIn(grace, "grace@example.com");
      const response = await tab.goto(sessionUrl);
      expect(response?.status()).toBe(404);
      expect(await tab.locator("main").innerText()).not.toContain("Hello, Switchboard!");
      await tab.goto(`${base}/sessions`);
      await expect(tab.locator("main").innerText()).resolves.toContain("No conversations yet");
      const notAUuid = await tab.goto(`${base}/sessions/not-a-session`);
      expect(notAUuid?.status()).toBe(404);
      await grace.close();
    });

    it("ends a session with End session, and a later message opens it again", async () => {
      await page.goto(sessionUrl);
      await page.getByRole("button", { name: "End session" }).click();
      await page.waitForURL(sessionUrl);
      await expect(page.locator("main").innerText()).resolves.toContain(
        "This session has ended. Writing again opens it",
      );
      await expect(page.getByRole("button", { name: "End session" }).count()).resolves.toBe(0);
      await screenshot(page, "session-ended");
      await page.getByLabel("Message to Demo agent").fill("Back again");
      await page.getByLabel("Message to Demo agent").press("Enter");
      await settled(page);
      await expect(answers(page).last().innerText()).resolves.toContain('You said: "Back again"');
      await page.reload();
      await expect(page.locator("main").innerText()).resolves.not.toContain("has ended");
      await expect(page.getByRole("button", { name: "End session" }).count()).resolves.toBe(1);
    });

    it("shows no chat panel to someone who may view but not run, and how to ask for access", async () => {
      await page.goto(`${base}/agents/look-only`);
      await expect(page.locator("[data-chat]").count()).resolves.toBe(0);
      const main = await page.locator("main").innerText();
      expect(main).toContain("You can view this agent but not run it");
      expect(main).toContain("You cannot run this agent yet.");
      // Its example prompt is plain text, not a link into a panel that is not there.
      await expect(page.getByRole("link", { name: /Say hello/ }).count()).resolves.toBe(0);
      await expect(
        page.getByRole("link", { name: "Email grace@example.com" }).getAttribute("href"),
      ).resolves.toMatch(/^mailto:grace@example\.com\?subject=/);
      // And the API refuses the run the panel would have started.
      await page.goto(`${base}/`);
      const token = await page.locator('meta[name="csrf-token"]').getAttribute("content");
      const refused = await ada.request.post(`${base}/api/v1/agents/look-only/runs`, {
        data: { input: "hi" },
        headers: { "x-csrf-token": token ?? "" },
      });
      expect(refused.status()).toBe(403);
    });

    it("chats by keyboard alone: Tab to the message box, type, Enter sends", async () => {
      await page.goto(`${base}/agents/demo`);
      const focused = () => page.evaluate<string>("document.activeElement?.id ?? ''");
      for (let i = 0; i < 40 && (await focused()) !== "chat-input"; i++) {
        await page.keyboard.press("Tab");
      }
      expect(await focused()).toBe("chat-input");
      await page.keyboard.type("Typed with keys", { delay: 10 });
      await page.keyboard.press("Enter");
      await settled(page);
      await expect(answers(page).last().innerText()).resolves.toBe(
        demoAnswer("Typed with keys", 1),
      );
      // Focus stays in the box for the next message.
      expect(await focused()).toBe("chat-input");
      await page.screenshot({ path: join(SCREENSHOTS, "agent-chat-keyboard-desktop.png") });
    });

    it("runs without JavaScript: the form posts and lands on the session page", async () => {
      const noScript = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false });
      await noScript.addCookies(await ada.cookies());
      const tab = await noScript.newPage();
      await tab.goto(`${base}/agents/demo?prompt=${encodeURIComponent("Hello, Switchboard!")}`);
      await expect(tab.getByLabel("Message to Demo agent").inputValue()).resolves.toBe(
        "Hello, Switchboard!",
      );
      await tab.getByLabel("Message to Demo agent").fill("No script here");
      await tab.getByRole("button", { name: "Send" }).click();
      await tab.waitForURL(/\/sessions\/[0-9a-f-]{36}#turn-/);
      const answered = async () => {
        for (let i = 0; i < 50; i++) {
          const text = await tab.locator(".turn").innerText();
          if (/Status\s*Succeeded/.test(text)) return text;
          await tab.waitForTimeout(200);
          await tab.reload();
        }
        return tab.locator(".turn").innerText();
      };
      expect(await answered()).toContain(demoAnswer("No script here", 1));
      await noScript.close();
    });

    it("follows a turn still running when its session page is opened, then shows how it ended", async () => {
      await page.goto(`${base}/`);
      const token = await page.locator('meta[name="csrf-token"]').getAttribute("content");
      // Started elsewhere (here through the API, as Slack would), then looked at on the site.
      const started = await ada.request.post(`${base}/api/v1/agents/slow-demo/runs`, {
        data: { input: "Watch me from the session page" },
        headers: { "x-csrf-token": token ?? "" },
      });
      expect(started.status()).toBe(201);
      const run = (await started.json()) as { session_id: string };
      await page.goto(`${base}/sessions/${run.session_id}`);
      await waitUntil(
        page,
        `document.querySelector("[data-follow-run] .msg-text")?.textContent.startsWith("You said")`,
      );
      await waitUntil(page, `/Succeeded/.test(document.querySelector(".turn")?.innerText)`, 20_000);
      await expect(page.locator(".turn .msg-agent").innerText()).resolves.toContain(
        demoAnswer("Watch me from the session page", 1),
      );
    });

    it("shows runs and spend per day as charts with tables, and use on catalog cards", async () => {
      await page.goto(`${base}/agents/demo`);
      const usage = page.getByRole("region", { name: "Usage in the last 30 days" });
      // Hello, once more, fresh start, still there, back again, keyboard, no script
      const runs = 7;
      await expect(usage.locator(".stats").innerText()).resolves.toMatch(
        new RegExp(`Runs\\s*${runs}\\b`),
      );
      const chart = usage.getByRole("img", {
        name: new RegExp(`^Runs per day, last 30 days: ${runs} runs in total`),
      });
      await expect(chart.count()).resolves.toBe(1);
      await expect(usage.locator(".chart-bar").count()).resolves.toBe(60);
      // The table equivalent, opened by keyboard-reachable disclosure.
      await usage.getByText("Runs per day as a table").click();
      const rows = await usage.locator(".chart-table").first().locator("tbody tr").allInnerTexts();
      expect(rows).toHaveLength(30);
      expect(rows.at(-1)).toMatch(new RegExp(`\\t${runs}$`));
      await expect(usage.locator("table").last().innerText()).resolves.toContain("demo");
      await usage.scrollIntoViewIfNeeded();
      await screenshot(page, "agent-usage");
      await usage.screenshot({ path: join(SCREENSHOTS, "usage-charts-desktop.png") });

      await page.goto(`${base}/`);
      const card = page.locator(".agent-card", {
        has: page.getByRole("link", { name: "Demo agent", exact: true }),
      });
      await expect(card.innerText()).resolves.toMatch(
        new RegExp(`Use, last 30 days\\s*${runs} runs`),
      );
      const look = page.locator(".agent-card", { hasText: "Look-only agent" });
      await expect(look.innerText()).resolves.toMatch(/Use, last 30 days\s*no runs/);
      await screenshot(page, "catalog-with-use");
    });

    it("reported no Content-Security-Policy violation on any page", () => {
      expect(violations).toEqual([]);
    });
  },
);
