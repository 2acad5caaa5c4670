import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db/index.js";
import {
  createHttpApp,
  createHttpMetrics,
  type HttpServerHandle,
  startHttpServer,
} from "../../app/http/index.js";
import { createLogger } from "../../app/logger.js";
import { AccessPolicy, EmbeddedAuthorizer, loadPolicyModel } from "../../authz/index.js";
import { Ledger, type LedgerEntry, SpendService } from "../../governance/index.js";
import { BACKENDS, type TestBackend } from "../../governance/testing/test-databases.js";
import type { JsonBody } from "../../test/support/http.js";
import {
  email,
  expectedNovember,
  PEOPLE,
  type Person,
  type ROWS,
  runId,
  seedSpendLedger,
  teamOf,
} from "../../test/support/spend-ledger.js";
import { API_BASE, createDefaultDirectoryApi, createDirectoryServices } from "../index.js";

/**
 * GET /api/v1/spend through a real HTTP server, on PostgreSQL and on PGlite: totals equal
 * the ledger's rows for every grouping and filter, each person sees what their role lets
 * them see, and a bad query is a 400 that says what to send.
 */

const NOVEMBER = "from=2026-11-01&to=2026-11-30";
const byKey = (items: { key: string | null }[]) =>
  [...items].sort((a, b) => String(a.key).localeCompare(String(b.key)));

describe.each(BACKENDS)("the spend API on %s", (_name, makeBackend) => {
  let backend: TestBackend;
  let db: Database;
  let authorizer: EmbeddedAuthorizer;
  let server: HttpServerHandle;
  const keyOf = {} as Record<Person, string>;

  async function get(who: Person, query: string): Promise<{ status: number; body: JsonBody }> {
    const response = await fetch(`${server.url}${API_BASE}/spend?${query}`, {
      headers: { authorization: `Bearer ${keyOf[who]}` },
    });
    return { status: response.status, body: (await response.json()) as JsonBody };
  }

  beforeAll(async () => {
    backend = makeBackend();
    db = await backend.open();
    authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
    const access = new AccessPolicy(authorizer, 5_000);
    const services = createDirectoryServices({ knex: db.knex, authorizer, access });
    const ids = await seedSpendLedger({ knex: db.knex, authorizer, access, services });
    for (const who of PEOPLE) {
      keyOf[who] = (
        await services.keys.create({ userId: ids[who], userEmail: email(who) }, "t")
      ).key;
    }
    const spend = new SpendService(db.knex, access);
    const app = createHttpApp({
      logger: createLogger({ level: "silent" }),
      metrics: createHttpMetrics(),
      checks: () => [],
      isStopping: () => false,
      mount: (app) =>
        app.use(API_BASE, createDefaultDirectoryApi(services, [], undefined, undefined, { spend })),
    });
    server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
  }, 120_000);

  afterAll(async () => {
    await server?.close(100);
    await authorizer?.close();
    await backend.close();
  });

  it("answers a platform admin's month with totals equal to the ledger's rows", async () => {
    const { status, body } = await get("ada", `group_by=team&${NOVEMBER}`);
    expect(status).toBe(200);
    const [ledger] = await db
      .knex("ledger")
      .where("occurred_at", ">=", "2026-11-01T00:00:00Z")
      .andWhere("occurred_at", "<", "2026-12-01T00:00:00Z")
      .sum({ total: "cost_usd" });
    expect(body.total_usd).toBe(Number(ledger.total));
    expect(body.total_usd).toBe(8.8125);
    expect(body.visibility).toBe("all");
    expect(body.runs).toBe(7);
    expect(body.items.reduce((sum: number, item: JsonBody) => sum + item.cost_usd, 0)).toBe(
      body.total_usd,
    );
    expect(body.days).toHaveLength(30);
    expect(body.days[1]).toEqual({ day: "2026-11-02", cost_usd: 1.75, runs: 1 });
    expect(body.days.reduce((sum: number, d: JsonBody) => sum + d.cost_usd, 0)).toBe(8.8125);
  });

  it.each([
    ["team", teamOf],
    ["user", (row: (typeof ROWS)[number]) => email(row.who)],
    ["agent", (row: (typeof ROWS)[number]) => row.agent],
    ["runtime", (row: (typeof ROWS)[number]) => row.runtime],
    ["model", (row: (typeof ROWS)[number]) => row.model],
  ] as const)("groups by %s as the ledger's rows add up", async (group, key) => {
    const { status, body } = await get("ada", `group_by=${group}&${NOVEMBER}`);
    expect(status).toBe(200);
    expect(byKey(body.items)).toEqual(byKey(expectedNovember(key)));
    // Each run counts once, in one group and on one day: both add up to the total.
    const runs = (list: JsonBody[]) => list.reduce((sum: number, x: JsonBody) => sum + x.runs, 0);
    expect(runs(body.items)).toBe(body.runs);
    expect(runs(body.days)).toBe(body.runs);
    // Biggest first.
    const costs = body.items.map((item: JsonBody) => item.cost_usd);
    expect(costs).toEqual([...costs].sort((a, b) => b - a));
  });

  it.each([
    ["team=support", (row: (typeof ROWS)[number]) => teamOf(row) === "support"],
    ["user=BOB@example.com", (row: (typeof ROWS)[number]) => row.who === "bob"],
    ["agent=invoices", (row: (typeof ROWS)[number]) => row.agent === "invoices"],
    ["runtime=a2a", (row: (typeof ROWS)[number]) => row.runtime === "a2a"],
    ["model=gpt-4o", (row: (typeof ROWS)[number]) => row.model === "gpt-4o"],
    [
      "team=support&model=claude-sonnet",
      (row: (typeof ROWS)[number]) => teamOf(row) === "support" && row.model === "claude-sonnet",
    ],
  ] as const)("filters by %s", async (filter, keep) => {
    const { body } = await get("ada", `group_by=user&${NOVEMBER}&${filter}`);
    const expected = expectedNovember((row) => (keep(row) ? email(row.who) : "-")).filter(
      (item) => item.key !== "-",
    );
    expect(byKey(body.items)).toEqual(byKey(expected));
    expect(body.total_usd).toBe(expected.reduce((sum, item) => sum + item.cost_usd, 0));
  });

  it("counts a run that spans midnight and uses two models once, where it was first booked", async () => {
    const carol = (await db.knex("users").where({ email: "carol@example.com" }).first("id")).id;
    const triage = (await db.knex("agents").where({ name: "triage" }).first("id")).id;
    const row = (key: string, at: string, over: Partial<LedgerEntry>): LedgerEntry => ({
      occurredAt: new Date(at),
      source: "proxy",
      agentId: triage,
      runtime: null,
      model: "gpt-4o",
      userId: carol,
      teamId: null,
      runId: runId("r20"),
      sessionId: null,
      apiKeyId: null,
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0.25,
      dedupeKey: key,
      metadata: {},
      ...over,
    });
    // A model call before midnight; the runtime's report, with another model, after it.
    const ledger = new Ledger(db.knex);
    await ledger.book([row("r20-call", "2026-09-30T23:59:00Z", {})]);
    await ledger.book([
      row("r20-report", "2026-10-01T00:01:00Z", {
        source: "runtime",
        runtime: "a2a",
        model: "claude-sonnet",
        costUsd: 1,
      }),
    ]);
    const range = "from=2026-09-30&to=2026-10-01";
    const models = await get("ada", `group_by=model&${range}`);
    expect(models.body).toMatchObject({ total_usd: 1.25, runs: 1 });
    expect(byKey(models.body.items)).toEqual([
      { key: "claude-sonnet", cost_usd: 1, runs: 0, estimated_usd: 0 },
      { key: "gpt-4o", cost_usd: 0.25, runs: 1, estimated_usd: 0 },
    ]);
    expect(models.body.days).toEqual([
      { day: "2026-09-30", cost_usd: 0.25, runs: 1 },
      { day: "2026-10-01", cost_usd: 1, runs: 0 },
    ]);
    // By person (or agent) a run's spend is all in one group, and so is the run.
    const people = await get("ada", `group_by=user&${range}`);
    expect(people.body.items).toEqual([
      { key: "carol@example.com", cost_usd: 1.25, runs: 1, estimated_usd: 0 },
    ]);
    // A range holding only its second day has its spend but not the run, counted the day before.
    const second = await get("ada", "group_by=runtime&from=2026-10-01&to=2026-10-01");
    expect(second.body).toMatchObject({ total_usd: 1, runs: 0 });
  });

  it("says which part of the spend is an estimate (a runtime billed by its own meter)", async () => {
    const carol = (await db.knex("users").where({ email: "carol@example.com" }).first("id")).id;
    const triage = (await db.knex("agents").where({ name: "triage" }).first("id")).id;
    const booked = (
      key: string,
      run: string,
      costUsd: number,
      metadata: Record<string, unknown>,
    ) => ({
      occurredAt: new Date("2026-08-14T10:00:00Z"),
      source: "runtime" as const,
      agentId: triage,
      runtime: key.startsWith("cursor") ? "cursor" : "a2a",
      model: null,
      userId: carol,
      teamId: null,
      runId: runId(run),
      sessionId: null,
      apiKeyId: null,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd,
      dedupeKey: key,
      metadata,
    });
    await new Ledger(db.knex).book([
      booked("cursor-1", "r41", 0.5, { surface: "api", cost_estimate: true }),
      booked("a2a-1", "r42", 0.25, { surface: "api" }),
    ]);
    const range = "from=2026-08-14&to=2026-08-14";
    const runtimes = await get("ada", `group_by=runtime&${range}`);
    expect(runtimes.body).toMatchObject({ total_usd: 0.75, estimated_usd: 0.5, runs: 2 });
    expect(byKey(runtimes.body.items)).toEqual([
      { key: "a2a", cost_usd: 0.25, runs: 1, estimated_usd: 0 },
      { key: "cursor", cost_usd: 0.5, runs: 1, estimated_usd: 0.5 },
    ]);
    // Every table a request may read holds the same estimate.
    for (const group of ["team", "user", "agent", "model"]) {
      const { body } = await get("ada", `group_by=${group}&${range}`);
      expect([group, body.estimated_usd]).toEqual([group, 0.5]);
    }
  });

  it("answers a name nothing has with no spend, not an error", async () => {
    const { status, body } = await get("ada", `${NOVEMBER}&agent=nobody-has-this`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ total_usd: 0, runs: 0, items: [] });
  });

  it("shows a plain person only their own spend, whatever they group by", async () => {
    for (const group of ["team", "user", "agent", "model"]) {
      const { status, body } = await get("bob", `group_by=${group}&${NOVEMBER}`);
      expect(status).toBe(200);
      expect(body.visibility).toBe("own");
      expect(body.total_usd).toBe(0.125 + 0.75 + 0.375);
    }
    const users = await get("bob", `group_by=user&${NOVEMBER}`);
    expect(users.body.items).toEqual([
      { key: "bob@example.com", cost_usd: 1.25, runs: 2, estimated_usd: 0 },
    ]);
    const mine = await get("bob", `${NOVEMBER}&user=bob@example.com`);
    expect(mine.body.total_usd).toBe(1.25);
  });

  it("refuses a plain person's request for someone else's or a team's spend, in words", async () => {
    const other = await get("bob", `${NOVEMBER}&user=carol@example.com`);
    expect(other.status).toBe(403);
    expect(other.body.error.message).toMatch(/only your own spend/);
    const team = await get("carol", `${NOVEMBER}&team=support`);
    expect(team.status).toBe(403);
    expect(team.body.error.message).toMatch(/Only team support's admins/);
    expect(JSON.stringify([other.body, team.body])).not.toMatch(/cost_usd/);
  });

  it("shows a team's admin their team's spend and their own, and nobody else's", async () => {
    const { body } = await get("tess", `group_by=team&${NOVEMBER}`);
    expect(body.visibility).toBe("teams");
    // support's rows (the research-booked proxy call is research's), and tess's own.
    expect(body.items).toEqual([{ key: "support", cost_usd: 3.875, runs: 3, estimated_usd: 0 }]);
    const people = await get("tess", `group_by=user&${NOVEMBER}`);
    expect(byKey(people.body.items)).toEqual([
      { key: "bob@example.com", cost_usd: 0.125, runs: 1, estimated_usd: 0 },
      { key: "carol@example.com", cost_usd: 1.25 + 0.5, runs: 1, estimated_usd: 0 },
      { key: "tess@example.com", cost_usd: 2, runs: 1, estimated_usd: 0 },
    ]);
    // Bob's spend on support's agents only: not his invoices runs nor his own proxy call.
    const bob = await get("tess", `${NOVEMBER}&user=bob@example.com`);
    expect(bob.body.total_usd).toBe(0.125);
    const research = await get("tess", `${NOVEMBER}&team=research`);
    expect(research.status).toBe(403);
    expect(research.body.error.message).toMatch(/teams you are an admin of \(support\)/);
  });

  it.each([
    ["group_by=colour", /group_by must be one of team, user, agent, runtime, model/],
    ["from=2026-13-01", /from must be a date as YYYY-MM-DD/],
    ["from=2026-02-30", /from must be a date/],
    ["to=yesterday", /to must be a date/],
    ["from=2026-11-30&to=2026-11-01", /from \(2026-11-30\) is after to \(2026-11-01\)/],
    ["from=2024-01-01&to=2026-11-01", /at most 400 days/],
    ["group_by=team&group_by=user", /group_by/],
  ])("refuses %s with a 400 in words", async (query, message) => {
    const { status, body } = await get("ada", query);
    expect(status).toBe(400);
    expect(body.error.message).toMatch(message);
  });

  it("asks for credentials", async () => {
    const response = await fetch(`${server.url}${API_BASE}/spend`);
    expect(response.status).toBe(401);
  });
});
