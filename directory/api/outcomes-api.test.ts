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
import { OutcomesService } from "../../governance/index.js";
import { BACKENDS, type TestBackend } from "../../governance/testing/test-databases.js";
import type { JsonBody } from "../../test/support/http.js";
import {
  email,
  PEOPLE,
  type Person,
  seedRuns,
  seedSpendLedger,
} from "../../test/support/spend-ledger.js";
import { API_BASE, createDefaultDirectoryApi, createDirectoryServices } from "../index.js";

/**
 * GET /api/v1/outcomes on PostgreSQL and PGlite: runs as the engine leaves them (succeeded,
 * failed with a code, cancelled, still running) over the spend fixture's ledger, so the cost
 * of each run is what was booked to it. Figures per agent and across agents, and who may
 * see them.
 */

const NOVEMBER = "from=2026-11-01&to=2026-11-30";

describe.each(BACKENDS)("the outcomes API on %s", (_name, makeBackend) => {
  let backend: TestBackend;
  let db: Database;
  let authorizer: EmbeddedAuthorizer;
  let server: HttpServerHandle;
  const keyOf = {} as Record<Person, string>;

  async function get(who: Person, query: string): Promise<{ status: number; body: JsonBody }> {
    const response = await fetch(`${server.url}${API_BASE}/outcomes?${query}`, {
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
    await seedRuns(db.knex, ids);
    const outcomes = new OutcomesService(db.knex, access);
    const app = createHttpApp({
      logger: createLogger({ level: "silent" }),
      metrics: createHttpMetrics(),
      checks: () => [],
      isStopping: () => false,
      mount: (app) =>
        app.use(
          API_BASE,
          createDefaultDirectoryApi(services, [], undefined, undefined, { outcomes }),
        ),
    });
    server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
  }, 120_000);

  afterAll(async () => {
    await server?.close(100);
    await authorizer?.close();
    await backend.close();
  });

  it("answers a platform admin with every agent's outcomes and the total", async () => {
    const { status, body } = await get("ada", NOVEMBER);
    expect(status).toBe(200);
    expect(body.total).toEqual({
      runs: 9,
      succeeded: 4,
      failed: 3,
      cancelled: 1,
      unfinished: 1,
      success_rate: 4 / 7,
      p50_seconds: 15,
      p95_seconds: 37,
      cost_usd: 8.4375,
      cost_per_success_usd: 8.4375 / 4,
      failures: [
        { reason: "runtime_error", runs: 2 },
        { reason: "timeout", runs: 1 },
      ],
    });
    expect(body.agents.map((a: JsonBody) => [a.agent, a.runs])).toEqual([
      ["triage", 6],
      ["invoices", 2],
      ["adas-bot", 1],
    ]);
    expect(body.agents[0]).toMatchObject({
      succeeded: 2,
      failed: 2,
      cancelled: 1,
      unfinished: 1,
      success_rate: 0.5,
      p50_seconds: 25,
      p95_seconds: 38.5,
      // r1's runtime and proxy rows, r2, r3, and r7's proxy call (booked to research, still triage's run).
      cost_usd: 4.125,
      cost_per_success_usd: 2.0625,
      failures: [
        { reason: "runtime_error", runs: 1 },
        { reason: "timeout", runs: 1 },
      ],
    });
  });

  it("answers an agent's owners with that agent's outcomes only", async () => {
    const { status, body } = await get("tess", `${NOVEMBER}&agent=invoices`);
    expect(status).toBe(403);
    expect(body.error.message).toMatch(/owners and editors of "invoices"/);
    const own = await get("tess", `${NOVEMBER}&agent=triage`);
    expect(own.status).toBe(200);
    expect(own.body.agents).toHaveLength(1);
    expect(own.body.total.runs).toBe(6);
  });

  it("answers an empty range with zeros and no rates", async () => {
    const { body } = await get("ada", "from=2026-01-01&to=2026-01-31");
    expect(body.total).toMatchObject({
      runs: 0,
      success_rate: null,
      p50_seconds: null,
      cost_per_success_usd: null,
      failures: [],
    });
    expect(body.agents).toEqual([]);
  });

  it("refuses those who may not see outcomes, in words", async () => {
    const member = await get("carol", `${NOVEMBER}&agent=triage`);
    expect(member.status).toBe(403);
    const across = await get("tess", NOVEMBER);
    expect(across.status).toBe(403);
    expect(across.body.error.message).toMatch(/Only platform admins see outcomes across agents/);
    const missing = await get("ada", "agent=no-such-agent");
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('The agent "no-such-agent" was not found.');
    const bad = await get("ada", "from=11/01/2026");
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/from must be a date as YYYY-MM-DD/);
  });
});
