import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeldAgentDouble } from "../doubles/held-agent.js";
import { eventually } from "../support/eventually.js";
import { apiRequest } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";
import { DESKTOP, findChromium, launchChromium, waitUntil } from "./browser.js";

/**
 * The chat panel when a run must wait for a place: Ada already has as many runs in
 * progress as RUN_MAX_PER_USER allows, so the panel says why this one waits, then shows its
 * answer once it has run. A real browser against `switchboard serve` (embedded database).
 */

const chromiumPath = findChromium();

describe.runIf(chromiumPath)(
  "the chat panel, a run waiting for a place",
  { timeout: 120_000 },
  () => {
    const root = mkdtempSync(join(tmpdir(), "switchboard-chat-waiting-"));
    const env = {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      RUN_MAX_PER_USER: "1",
    };
    let agent: HeldAgentDouble;
    let server: SwitchboardProcess;
    let browser: Browser;
    let base: string;
    let key: string;

    beforeAll(async () => {
      agent = await HeldAgentDouble.start();
      const manifest = join(root, "agent.yaml");
      writeFileSync(manifest, agent.manifest("held"));
      expect((await runSwitchboard(["agents", "apply", manifest], env)).code).toBe(0);
      const created = await runSwitchboard(["keys", "create", "--user", "ada@example.com"], env);
      key = created.stdout.trim().split("\n").at(-1) ?? "";
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
      await server.waitFor(`${base}/readyz`);
      browser = await launchChromium(chromiumPath as string);
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await server?.kill();
      await agent?.close();
      rmSync(root, { recursive: true, force: true });
    });

    it("says why the run waits, then shows its answer", async () => {
      // Ada's first run, from the API, is in progress and holds her one place.
      const first = await apiRequest(base, key, "POST", "/agents/held/runs", { input: "ada-1" });
      expect(first.status).toBe(201);
      await eventually(async () => expect(agent.held.started).toEqual(["ada-1"]), 30_000);

      const context = await browser.newContext({ viewport: DESKTOP });
      const page = await context.newPage();
      await page.goto(`${base}/sign-in`);
      await page.getByLabel("Email").fill("ada@example.com");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${base}/`);
      await page.goto(`${base}/agents/held`);
      await page.getByLabel("Message to Held agent").fill("ada-2");
      await page.getByRole("button", { name: "Send" }).click();
      const status = page.locator("[data-chat-status]");
      await waitUntil(
        page,
        `document.querySelector("[data-chat-status]").textContent.startsWith("You have 1 run")`,
      );
      await expect(status.innerText()).resolves.toBe(
        "You have 1 run in progress, as many as one person may have at once; this one starts when it finishes.",
      );

      agent.held.release("ada-1", "ada-2");
      await waitUntil(
        page,
        `/^Finished\\b/.test(document.querySelector("[data-chat-status]").textContent)`,
      );
      await expect(
        page.locator("[data-chat-log] .msg-agent .msg-text").last().innerText(),
      ).resolves.toBe("done ada-2");
      await context.close();
    });
  },
);
