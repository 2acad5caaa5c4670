import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db/index.js";
import {
  createHttpApp,
  createHttpMetrics,
  type HttpServerHandle,
  startHttpServer,
} from "../../app/http/index.js";
import { createLogger } from "../../app/logger.js";
import {
  AccessPolicy,
  EmbeddedAuthorizer,
  loadPolicyModel,
  PLATFORM,
  UserDirectory,
} from "../../authz/index.js";
import { AuditReader } from "../../governance/index.js";
import { BACKENDS, type TestBackend } from "../../governance/testing/test-databases.js";
import { API_BASE, createDefaultDirectoryApi, createDirectoryServices } from "../index.js";

/**
 * GET /api/v1/audit on PostgreSQL and PGlite: JSON lines, newest first, narrowed by action
 * (exact or a family), actor, target and UTC days, paged with `before`; platform admins only.
 */

const ENTRIES = [
  {
    at: "2026-11-01T09:00:00Z",
    actor: "user:ada@example.com",
    action: "budget.set",
    type: "team",
    id: "support",
  },
  {
    at: "2026-11-02T09:00:00Z",
    actor: "user:tess@example.com",
    action: "approval.approved",
    type: "approval",
    id: "a1",
  },
  {
    at: "2026-11-03T09:00:00Z",
    actor: "system:cli",
    action: "agent.created",
    type: "agent",
    id: "triage",
  },
  {
    at: "2026-11-03T23:59:59Z",
    actor: "user:ada@example.com",
    action: "budget.deleted",
    type: "team",
    id: "support",
  },
  {
    at: "2026-11-04T00:00:00Z",
    actor: "user:ada@example.com",
    action: "budget_x.set",
    type: "agent",
    id: "invoices",
  },
  {
    at: "2026-11-05T09:00:00Z",
    actor: "user:rita@example.com",
    action: "budget.overrun",
    type: "team",
    id: "research",
  },
];

describe.each(BACKENDS)("the audit API on %s", (_name, makeBackend) => {
  let backend: TestBackend;
  let db: Database;
  let authorizer: EmbeddedAuthorizer;
  let server: HttpServerHandle;
  const keyOf: Record<string, string> = {};

  async function get(who: string, query: string) {
    const response = await fetch(`${server.url}${API_BASE}/audit?${query}`, {
      headers: { authorization: `Bearer ${keyOf[who]}` },
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  }
  /** The actions of the answer's lines, in order. */
  const actions = async (query: string) => {
    const { status, text } = await get("ada", query);
    expect(status).toBe(200);
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line).action as string);
  };

  beforeAll(async () => {
    backend = makeBackend();
    db = await backend.open();
    authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
    const access = new AccessPolicy(authorizer, 5_000);
    const services = createDirectoryServices({ knex: db.knex, authorizer, access });
    await authorizer.write([{ user: "user:ada@example.com", relation: "admin", object: PLATFORM }]);
    const users = new UserDirectory(db.knex);
    for (const who of ["ada", "tess"]) {
      const user = await users.ensureUser(`${who}@example.com`);
      keyOf[who] = (
        await services.keys.create({ userId: user.id, userEmail: `${who}@example.com` }, "t")
      ).key;
    }
    // Only the entries of this test: creating keys wrote some of its own.
    await db.knex("audit_log").del();
    for (const e of ENTRIES) {
      await db.knex("audit_log").insert({
        occurred_at: e.at,
        actor: e.actor,
        action: e.action,
        target_type: e.type,
        target_id: e.id,
        details: { why: `${e.action} "quoted", \n newline` },
      });
    }
    const app = createHttpApp({
      logger: createLogger({ level: "silent" }),
      metrics: createHttpMetrics(),
      checks: () => [],
      isStopping: () => false,
      mount: (app) =>
        app.use(
          API_BASE,
          createDefaultDirectoryApi(services, [], undefined, undefined, {
            audit: new AuditReader(services.audit, access),
          }),
        ),
    });
    server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
  }, 120_000);

  afterAll(async () => {
    await server?.close(100);
    await authorizer?.close();
    await backend.close();
  });

  it("answers JSON lines, newest first, each a whole entry", async () => {
    const { status, headers, text } = await get("ada", "");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(headers.get("x-next-before")).toBeNull();
    const lines = text.split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines).toHaveLength(ENTRIES.length + 1);
    const first = JSON.parse(lines[0] as string);
    expect(first).toEqual({
      id: expect.any(Number),
      occurred_at: "2026-11-05T09:00:00.000Z",
      actor: "user:rita@example.com",
      action: "budget.overrun",
      target_type: "team",
      target_id: "research",
      details: { why: 'budget.overrun "quoted", \n newline' },
      request_id: null,
    });
  });

  it("filters by action, a family of actions, actor, target and days", async () => {
    expect(await actions("action=budget.set")).toEqual(["budget.set"]);
    // `_` is no wildcard: budget_x.set is not in the budget.* family.
    expect(await actions("action=budget.*")).toEqual([
      "budget.overrun",
      "budget.deleted",
      "budget.set",
    ]);
    expect(await actions("actor=ADA@example.com")).toEqual([
      "budget_x.set",
      "budget.deleted",
      "budget.set",
    ]);
    expect(await actions("actor=system:cli")).toEqual(["agent.created"]);
    expect(await actions("target=team:support")).toEqual(["budget.deleted", "budget.set"]);
    expect(await actions("target=agent")).toEqual(["budget_x.set", "agent.created"]);
    // Whole UTC days, both ends included.
    expect(await actions("from=2026-11-03&to=2026-11-03")).toEqual([
      "budget.deleted",
      "agent.created",
    ]);
    expect(await actions("from=2026-11-04")).toEqual(["budget.overrun", "budget_x.set"]);
  });

  it("pages back through the log with before", async () => {
    const first = await get("ada", "limit=4");
    const next = first.headers.get("x-next-before");
    expect(next).toMatch(/^\d+$/);
    const second = await actions(`limit=4&before=${next}`);
    expect(second).toEqual(["approval.approved", "budget.set"]);
    const all = [...(await actions("limit=4")), ...second];
    expect(all).toEqual(await actions(""));
  });

  it("refuses anyone but a platform admin, and a filter it cannot read, in words", async () => {
    const refused = await get("tess", "");
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error.message).toBe(
      "Only platform admins may read the audit log.",
    );
    for (const [query, message] of [
      ["from=2026-11-31", /from must be a date as YYYY-MM-DD/],
      ["from=2026-11-05&to=2026-11-01", /is after to/],
      ["limit=0", /limit must be a whole number from 1 to 10000/],
      ["limit=20000", /limit must be a whole number from 1 to 10000/],
      ["limit=ten", /limit must be a whole number; "ten" is not/],
      ["before=-1", /before must be a whole number/],
    ] as const) {
      const bad = await get("ada", query);
      expect([query, bad.status]).toEqual([query, 400]);
      expect(JSON.parse(bad.text).error.message).toMatch(message);
    }
  });
});
