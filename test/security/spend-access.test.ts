import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateLatest, openDatabase } from "../../app/db/index.js";
import { AccessPolicy, EmbeddedAuthorizer, loadPolicyModel } from "../../authz/index.js";
import { createDirectoryServices } from "../../directory/index.js";
import { freePort } from "../support/ports.js";
import { email, PEOPLE, type Person, seedSpendLedger } from "../support/spend-ledger.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";
import { closeSiteClients, developmentSignIn, siteRequest } from "./site-client.js";

/**
 * Reading spend one may not see, through `switchboard serve` (API with a key, the site's
 * page and CSV with a session): a person in no team asking for a colleague's or a team's
 * spend by name, by another spelling, or through an agent's filter; a team member asking for
 * their team's; a team's admin asking for another team's. And names chosen by others that a
 * spreadsheet would run as formulas (an email, a model name an agent sent to the proxy),
 * downloaded by an admin: they arrive as text. And outcomes and the audit log, asked for by
 * people who may not see them.
 */

const NOVEMBER = "from=2026-11-01&to=2026-11-30";
const FORMULA_MODEL = "=cmd|' /C calc'!A0";
const FORMULA_EMAIL = "-2+3@example.com";

describe("reading spend one may not see", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-spend-attack-"));
  const env = {
    SWITCHBOARD_DATA_DIR: join(root, "data"),
    SWITCHBOARD_ADMINS: "ada@example.com",
    LOG_LEVEL: "warn",
  };
  let server: SwitchboardProcess;
  let base: string;
  const keyOf = {} as Record<Person, string>;
  const cookieOf = {} as Record<Person, string>;

  async function api(who: Person, query: string) {
    const response = await fetch(`${base}/api/v1/spend?${query}`, {
      headers: { authorization: `Bearer ${keyOf[who]}` },
    });
    return { status: response.status, text: await response.text() };
  }
  const site = (who: Person, path: string) =>
    siteRequest(`${base}${path}`, { headers: { cookie: cookieOf[who] } });

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
    for (const who of PEOPLE) {
      keyOf[who] = (
        await services.keys.create({ userId: ids[who], userEmail: email(who) }, "t")
      ).key;
    }
    const [mallory] = await db.knex("users").insert({ email: FORMULA_EMAIL }).returning("id");
    await db.knex("ledger").insert({
      occurred_at: "2026-09-15T10:00:00Z",
      source: "proxy",
      user_id: mallory.id,
      model: FORMULA_MODEL,
      cost_usd: 0.5,
      dedupe_key: "formula",
    });
    await authorizer.close();
    await db.close();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    await server.waitFor(`${base}/readyz`, 90_000);
    for (const who of ["ada", "bob", "carol", "tess"] as const) {
      cookieOf[who] = await developmentSignIn(base, email(who));
    }
  }, 120_000);

  afterAll(async () => {
    await closeSiteClients();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("refuses a person in no team a colleague's or a team's spend, however they spell it", async () => {
    for (const query of [
      "user=carol@example.com",
      "user=CAROL@Example.COM",
      "user=%20carol@example.com%20",
      "team=support",
      "team=research&group_by=user",
    ]) {
      const answer = await api("bob", `${NOVEMBER}&${query}`);
      expect([query, answer.status]).toEqual([query, 403]);
      expect(answer.text).not.toContain("cost_usd");
      const csv = await site("bob", `/spend.csv?${NOVEMBER}&${query}`);
      expect([query, csv.status]).toEqual([query, 403]);
      expect(csv.text).not.toMatch(/\d+\.\d+/);
    }
  });

  it("gives a person in no team only their own rows through any other filter or grouping", async () => {
    // triage is support's agent: carol's and tess's runs on it are not bob's to see.
    const triage = JSON.parse((await api("bob", `${NOVEMBER}&agent=triage&group_by=user`)).text);
    expect(triage.items).toEqual([
      { key: "bob@example.com", cost_usd: 0.125, runs: 1, estimated_usd: 0 },
    ]);
    for (const group of ["team", "user", "agent", "runtime", "model"]) {
      const answer = JSON.parse((await api("bob", `${NOVEMBER}&group_by=${group}`)).text);
      expect([group, answer.total_usd]).toEqual([group, 1.25]);
    }
    const csv = await site("bob", `/spend.csv?${NOVEMBER}&group_by=user`);
    expect(csv.text.split("\r\n").slice(0, 3)).toEqual([
      "user,cost_usd,runs,estimated_usd",
      "bob@example.com,1.25,2,0",
      "total,1.25,2,0",
    ]);
    const page = await site("bob", `/spend?${NOVEMBER}&group_by=user`);
    expect(page.text).not.toContain("carol@example.com");
    expect(page.text).not.toContain("tess@example.com");
  });

  it("refuses a team's member their team's spend, and a team's admin another team's", async () => {
    expect((await api("carol", `${NOVEMBER}&team=support`)).status).toBe(403);
    const carol = JSON.parse((await api("carol", `${NOVEMBER}&group_by=user`)).text);
    expect(carol.items.map((item: { key: string }) => item.key)).toEqual(["carol@example.com"]);
    expect((await api("tess", `${NOVEMBER}&team=research`)).status).toBe(403);
    expect((await site("tess", `/spend?${NOVEMBER}&team=research`)).status).toBe(403);
    // Rita's spend is all on research's agent: none of it is support's.
    const rita = JSON.parse((await api("tess", `${NOVEMBER}&user=rita@example.com`)).text);
    expect(rita).toMatchObject({ total_usd: 0, items: [] });
  });

  it("keeps outcomes and the audit log from anyone who may not see them", async () => {
    const get = (who: Person, path: string) =>
      fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${keyOf[who]}` } });
    // Across agents: platform admins only; one agent: those who may change it.
    expect((await get("bob", "/outcomes")).status).toBe(403);
    expect((await get("carol", "/outcomes?agent=triage")).status).toBe(403);
    expect((await get("tess", "/outcomes?agent=invoices")).status).toBe(403);
    expect((await get("tess", "/outcomes?agent=triage")).status).toBe(200);
    for (const who of ["bob", "tess"] as const) {
      const audit = await get(who, "/audit");
      expect(audit.status).toBe(403);
      expect(await audit.text()).not.toContain("agent.created");
      expect((await site(who, "/admin/audit.csv")).status).toBe(404);
    }
    expect((await get("ada", "/audit")).status).toBe(200);
  });

  it("answers no one who is not signed in", async () => {
    for (const path of ["/spend", "/outcomes", "/audit"]) {
      expect((await fetch(`${base}/api/v1${path}`)).status).toBe(401);
    }
    const csv = await siteRequest(`${base}/spend.csv?${NOVEMBER}`);
    expect(csv.status).toBe(303);
    expect(csv.location).toMatch(/^\/sign-in/);
    // /metrics answers anyone: spend is on it only when METRICS_SPEND says so.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain("switchboard_http_requests_total");
    expect(metrics).not.toContain("switchboard_spend");
  });

  it("keeps names a spreadsheet would run as formulas as text in an admin's CSV", async () => {
    const byModel = await site("ada", "/spend.csv?group_by=model&from=2026-09-01&to=2026-09-30");
    expect(byModel.text.split("\r\n")[1]).toBe(`'${FORMULA_MODEL},0.5,0,0`);
    const byUser = await site("ada", "/spend.csv?group_by=user&from=2026-09-01&to=2026-09-30");
    expect(byUser.text.split("\r\n")[1]).toBe(`'${FORMULA_EMAIL},0.5,0,0`);
    for (const line of `${byModel.text}${byUser.text}`.split("\r\n")) {
      for (const cell of line.split(",")) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
  });
});
