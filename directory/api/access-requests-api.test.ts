import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
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
  UserDirectory,
} from "../../authz/index.js";
import type { JsonBody } from "../../test/support/http.js";
import {
  API_BASE,
  createDefaultDirectoryApi,
  createDirectoryServices,
  type DirectoryServices,
} from "../index.js";

/**
 * Asking for access through the REST API: someone who may see an agent asks, its owners
 * list and decide, a decision counts once, and the person may then see themselves as a runner.
 */

const dir = mkdtempSync(join(tmpdir(), "switchboard-access-api-"));
let db: Database;
let server: HttpServerHandle;
let services: DirectoryServices;
let authorizer: EmbeddedAuthorizer;
const keyOf: Record<string, string> = {};

async function call(who: string, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${keyOf[who]}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}${API_BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as JsonBody };
}

beforeAll(async () => {
  db = await openDatabase({ dataDir: dir });
  await migrateLatest(db);
  authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
  services = createDirectoryServices({
    knex: db.knex,
    authorizer,
    access: new AccessPolicy(authorizer, 5_000),
  });
  await authorizer.write([
    { user: "user:ada@example.com", relation: "admin", object: "team:support" },
    { user: "user:carol@example.com", relation: "member", object: "team:support" },
  ]);
  await services.registry.teams.ensure(["support"]);
  const users = new UserDirectory(db.knex);
  for (const email of ["ada@example.com", "carol@example.com", "erin@example.com"]) {
    const user = await users.ensureUser(email);
    const created = await services.keys.create(
      { userId: user.id, userEmail: email },
      "system:test",
    );
    keyOf[email.split("@")[0] as string] = created.key;
  }
  const app = createHttpApp({
    logger: createLogger({ level: "silent" }),
    metrics: createHttpMetrics(),
    checks: () => [],
    isStopping: () => false,
    mount: (app) => app.use(API_BASE, createDefaultDirectoryApi(services)),
  });
  server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
  const registered = await call("ada", "POST", "/agents", {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: {
      name: "triage",
      title: "Triage",
      description: "Sorts tickets",
      owner: "team:support",
      tags: [],
    },
    spec: {
      runtime: { type: "a2a", url: "https://agents.internal/x", api_key: { env: "X_KEY" } },
      skills: [{ name: "classify", examples: ["Where does this go?"] }],
      access: { view: ["user:*"], run: [] },
    },
  });
  expect(registered.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await server.close(100);
  await authorizer.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("access requests over the API", () => {
  let id = "";

  it("files a request for someone who may see but not run the agent; asking again answers it", async () => {
    const filed = await call("erin", "POST", "/agents/triage/access-requests", {
      reason: "I cover the <night> queue",
    });
    expect(filed.status).toBe(201);
    expect(filed.body).toMatchObject({
      agent: "triage",
      requested_by: "erin@example.com",
      reason: "I cover the <night> queue",
      status: "pending",
    });
    id = filed.body.id;
    const again = await call("erin", "POST", "/agents/triage/access-requests", { reason: "again" });
    expect(again).toMatchObject({ status: 200, body: { id } });
  });

  it("refuses bad asks in words", async () => {
    expect((await call("erin", "POST", "/agents/triage/access-requests", {})).status).toBe(400);
    const runner = await call("carol", "POST", "/agents/triage/access-requests", { reason: "x" });
    expect(runner.status).toBe(409);
    expect(runner.body.error.message).toMatch(/already run/);
    expect(
      (await call("erin", "POST", "/agents/nope/access-requests", { reason: "x" })).status,
    ).toBe(404);
  });

  it("lists pending requests to owners only", async () => {
    const forAda = await call("ada", "GET", "/access-requests");
    expect(forAda.body.items.map((r: { id: string }) => r.id)).toEqual([id]);
    expect((await call("carol", "GET", "/access-requests")).body.items).toEqual([]);
    expect((await call("erin", "GET", "/access-requests")).body.items).toEqual([]);
  });

  it("lets only an owner decide; approving grants run; a second decision is 409 naming the first", async () => {
    const self = await call("erin", "POST", `/access-requests/${id}/approve`, {});
    expect(self.status).toBe(403);
    expect((await call("carol", "POST", `/access-requests/${id}/approve`, {})).status).toBe(403);
    expect(
      (await call("ada", "POST", `/access-requests/${id}/approve`, { grant_to: "everyone" }))
        .status,
    ).toBe(400);
    const approved = await call("ada", "POST", `/access-requests/${id}/approve`, {
      reason: "welcome",
    });
    expect(approved).toMatchObject({
      status: 200,
      body: {
        status: "approved",
        decided_by: "user:ada@example.com",
        grant_target: "user:erin@example.com",
      },
    });
    const again = await call("ada", "POST", `/access-requests/${id}/deny`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already approved by ada@example.com/);
    expect(
      await authorizer.check({
        user: "user:erin@example.com",
        relation: "runner",
        object: "agent:triage",
      }),
    ).toBe(true);
    const forged = await call(
      "ada",
      "POST",
      "/access-requests/00000000-0000-4000-8000-000000000000/approve",
      {},
    );
    expect(forged.status).toBe(404);
  });
});
