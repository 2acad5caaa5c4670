import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import {
  createHttpApp,
  createHttpMetrics,
  type HttpServerHandle,
  startHttpServer,
} from "../../app/http/index.js";
import {
  AccessPolicy,
  EmbeddedAuthorizer,
  loadPolicyModel,
  UserDirectory,
} from "../../authz/index.js";
import {
  API_BASE,
  createDefaultDirectoryApi,
  createDirectoryServices,
  runnableAgents,
  validateManifest,
} from "../../directory/index.js";
import { DemoRuntime, RuntimeRegistry } from "../../runtimes/index.js";
import { InProcessQueue, LocalRunSignals, RunsService } from "../../sessions/index.js";
import type { JsonBody } from "../support/http.js";

/**
 * Budgets and approvals through the REST API, as their people use them and as an attacker
 * with an ordinary account would try them: setting or deleting budgets they do not manage,
 * approving their own overrun (or raising the budget while at it) without the right,
 * deciding with forged or someone else's approval ids, deciding twice. Runs are not
 * executed here (no engine): what matters is what gets admitted and queued.
 */

const dir = mkdtempSync(join(tmpdir(), "switchboard-budgets-api-"));
let db: Database;
let server: HttpServerHandle;
let authorizer: EmbeddedAuthorizer;
const keyOf: Record<string, string> = {};

async function call(who: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${API_BASE}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${keyOf[who]}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as JsonBody };
}

beforeAll(async () => {
  db = await openDatabase({ dataDir: dir });
  await migrateLatest(db);
  authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
  const access = new AccessPolicy(authorizer, 5_000);
  const services = createDirectoryServices({ knex: db.knex, authorizer, access });
  await authorizer.write([
    { user: "user:root@example.com", relation: "admin", object: "platform:switchboard" },
    { user: "user:alice@example.com", relation: "admin", object: "team:research" },
    { user: "user:mallory@example.com", relation: "member", object: "team:research" },
    { user: "user:olga@example.com", relation: "admin", object: "team:other" },
  ]);
  const users = new UserDirectory(db.knex);
  for (const name of ["root", "alice", "mallory", "olga"]) {
    const email = `${name}@example.com`;
    const user = await users.ensureUser(email);
    keyOf[name] = (
      await services.keys.create({ userId: user.id, userEmail: email }, "system:test")
    ).key;
  }
  await services.registry.apply(
    validateManifest({
      apiVersion: "switchboard/v1",
      kind: "Agent",
      metadata: { name: "writer", title: "Writer", owner: "team:research" },
      spec: {
        runtime: { type: "demo" },
        access: { run: ["team:research"] },
        limits: { max_cost_usd_per_run: 2 },
      },
    }),
    { actor: "system:test" },
  );
  const runs = new RunsService({
    knex: db.knex,
    agents: runnableAgents(services.registry),
    access,
    runtimes: new RuntimeRegistry([new DemoRuntime()]),
    queue: new InProcessQueue(),
    signals: new LocalRunSignals(),
    logger: pino({ level: "silent" }),
  });
  const app = createHttpApp({
    logger: pino({ level: "silent" }),
    metrics: createHttpMetrics(),
    checks: () => [],
    isStopping: () => false,
    mount: (app) => app.use(API_BASE, createDefaultDirectoryApi(services, [], runs)),
  });
  server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
}, 60_000);

afterAll(async () => {
  await server.close(100);
  await authorizer.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("budgets through the API", () => {
  it("answers 400 in words for a bad budget", async () => {
    for (const [body, words] of [
      ["not json", /JSON/],
      [{ scope: "team:research", period: "month", amount_usd: 0, mode: "hard" }, /amount_usd/],
      [{ scope: "galaxy:x", period: "month", amount_usd: 5, mode: "hard" }, /scope must be/],
      [
        { scope: "team:research", period: "fortnight", amount_usd: 5, mode: "hard" },
        /period must be/,
      ],
      [{ scope: "team:research", period: "month", amount_usd: 5, mode: "soft" }, /mode must be/],
    ] as const) {
      const reply = await call("alice", "POST", "/budgets", body);
      expect(reply.status).toBe(400);
      expect(JSON.stringify(reply.body)).toMatch(words);
    }
  });

  it("creates (201 with its id), lists with spend so far, and deletes a team's budget", async () => {
    const created = await call("alice", "POST", "/budgets", {
      scope: "team:research",
      period: "day",
      amount_usd: 40,
      mode: "notify",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      scope: "team:research",
      amount_usd: 40,
      spent_usd: 0,
      thresholds: [50, 80, 100],
    });
    const again = await call("alice", "POST", "/budgets", {
      scope: "team:research",
      period: "day",
      amount_usd: 50,
      mode: "notify",
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    const listed = await call("alice", "GET", "/budgets");
    expect(listed.body.items).toEqual([expect.objectContaining({ amount_usd: 50, limit_usd: 50 })]);
    expect((await call("olga", "GET", "/budgets")).body.items).toEqual([]);
    expect((await call("alice", "DELETE", `/budgets/${created.body.id}`)).status).toBe(204);
    expect((await call("alice", "GET", "/budgets")).body.items).toEqual([]);
  });
});

describe("an attacker with an ordinary account", () => {
  let approvalId: string;
  let runId: string;

  beforeAll(async () => {
    const set = await call("alice", "POST", "/budgets", {
      scope: "team:research",
      period: "month",
      amount_usd: 1,
      mode: "approval",
    });
    expect(set.status).toBe(201);
    const started = await call("mallory", "POST", "/agents/writer/runs", { input: "a long essay" });
    expect(started.status).toBe(201);
    expect(started.body.status).toBe("needs_approval");
    approvalId = started.body.approval_id;
    runId = started.body.id;
  });

  it("cannot lift or delete their team's budget as a member, nor another team's as its neighbour", async () => {
    const raised = await call("mallory", "POST", "/budgets", {
      scope: "team:research",
      period: "month",
      amount_usd: 1_000_000,
      mode: "notify",
    });
    expect(raised.status).toBe(403);
    expect(raised.body.error.message).toContain("Only the admins of team:research");
    const [budget] = (await call("alice", "GET", "/budgets")).body.items;
    expect((await call("mallory", "DELETE", `/budgets/${budget.id}`)).status).toBe(404);
    expect((await call("olga", "DELETE", `/budgets/${budget.id}`)).status).toBe(404);
    expect((await call("alice", "GET", "/budgets")).body.items[0]).toMatchObject({
      amount_usd: 1,
      mode: "approval",
    });
  });

  it("cannot approve their own overrun, or raise the budget while at it", async () => {
    expect((await call("mallory", "GET", "/approvals")).body.items).toEqual([]);
    for (const body of [{}, { raise_usd: 1000 }, { reason: "trust me" }]) {
      const reply = await call("mallory", "POST", `/approvals/${approvalId}/approve`, body);
      expect(reply.status).toBe(403);
    }
    const olga = await call("olga", "POST", `/approvals/${approvalId}/approve`, {});
    expect(olga.status).toBe(403);
    const approval = await db.knex("approvals").where({ id: approvalId }).first();
    expect(approval.status).toBe("pending");
    expect(await db.knex("budget_raises")).toEqual([]);
  });

  it("gets nothing from forged approval ids", async () => {
    for (const id of [randomUUID(), "1%20OR%201%3D1", "..%2Fbudgets", "x".repeat(90)]) {
      const reply = await call("mallory", "POST", `/approvals/${id}/approve`, {});
      expect(reply.status).toBe(404);
    }
  });

  it("an approver's decision counts once: the second answers 409 with the decision that stands", async () => {
    const listed = await call("alice", "GET", "/approvals");
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        id: approvalId,
        requested_by: "mallory@example.com",
        agent: "writer",
        summary: "a long essay",
        estimate_usd: 2,
        limit_usd: 1,
      }),
    ]);
    const denied = await call("alice", "POST", `/approvals/${approvalId}/deny`, {
      reason: "not this month",
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ status: "denied", decided_by: "user:alice@example.com" });
    const twice = await call("root", "POST", `/approvals/${approvalId}/approve`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toBe(
      "This approval was already denied by alice@example.com; nothing changed.",
    );
    const run = await call("mallory", "GET", `/runs/${runId}`);
    expect(run.body).toMatchObject({
      status: "failed",
      error: { code: "approval_denied", message: "Denied by alice@example.com: not this month" },
    });
  });
});
