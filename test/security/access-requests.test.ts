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
import {
  API_BASE,
  createDefaultDirectoryApi,
  createDirectoryServices,
  type DirectoryServices,
} from "../../directory/index.js";
import type { JsonBody } from "../support/http.js";

/**
 * Getting the right to run an agent without an owner's yes, through the REST API: approving
 * one's own request, a runner or another agent's owner approving it, forged request ids,
 * asking about an agent one may not see. Each refused in words, and nobody gains a grant.
 */

const dir = mkdtempSync(join(tmpdir(), "switchboard-access-attack-"));
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
    { user: "user:bob@example.com", relation: "admin", object: "team:research" },
  ]);
  await services.registry.teams.ensure(["support", "research"]);
  const users = new UserDirectory(db.knex);
  for (const email of [
    "ada@example.com",
    "bob@example.com",
    "carol@example.com",
    "erin@example.com",
  ]) {
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
  const secret = await call("ada", "POST", "/agents", {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: {
      name: "payroll",
      title: "Payroll",
      description: "Pays",
      owner: "team:support",
      tags: [],
    },
    spec: {
      runtime: { type: "a2a", url: "https://agents.internal/y", api_key: { env: "X_KEY" } },
      skills: [{ name: "pay", examples: ["Pay"] }],
      access: { view: [], run: [] },
    },
  });
  expect(secret.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await server.close(100);
  await authorizer.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const erinRuns = () =>
  authorizer.check({ user: "user:erin@example.com", relation: "runner", object: "agent:triage" });

describe("access requests against an ordinary account", () => {
  let id = "";

  beforeAll(async () => {
    const filed = await call("erin", "POST", "/agents/triage/access-requests", {
      reason: "<script>alert(1)</script> please",
    });
    expect(filed.status).toBe(201);
    id = filed.body.id;
  });

  it("refuses a person approving their own request, whatever they send", async () => {
    for (const body of [{}, { grant_to: "user" }, { grant_to: "team", team: "support" }]) {
      const self = await call("erin", "POST", `/access-requests/${id}/approve`, body);
      expect(self.status).toBe(403);
      expect(self.body.error.message).toMatch(/Only the owners of triage/);
    }
    expect(await erinRuns()).toBe(false);
  });

  it("refuses a runner who is not an owner, and the owner of another agent", async () => {
    for (const who of ["carol", "bob"]) {
      expect((await call(who, "POST", `/access-requests/${id}/approve`, {})).status).toBe(403);
    }
    expect(await erinRuns()).toBe(false);
    const listed = await call("ada", "GET", "/access-requests");
    expect(listed.body.items.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      [id, "pending"],
    ]);
  });

  it("answers forged ids with a 404 that changes nothing", async () => {
    for (const forged of [
      "00000000-0000-4000-8000-000000000000",
      "1' or '1'='1",
      "%2e%2e%2fagents%2ftriage",
      `${id}x`,
    ]) {
      const response = await call(
        "ada",
        "POST",
        `/access-requests/${encodeURIComponent(forged)}/approve`,
        {},
      );
      expect(response.status).toBe(404);
    }
    expect(await erinRuns()).toBe(false);
  });

  it("does not say whether an agent one may not see exists", async () => {
    const hidden = await call("erin", "POST", "/agents/payroll/access-requests", { reason: "x" });
    const missing = await call("erin", "POST", "/agents/payrolls/access-requests", { reason: "x" });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.body.error.message.replace("payroll", "X")).toBe(
      missing.body.error.message.replace("payrolls", "X"),
    );
  });

  it("lets an owner grant only the person or a team of theirs", async () => {
    const wrongTeam = await call("ada", "POST", `/access-requests/${id}/approve`, {
      grant_to: "team",
      team: "support",
    });
    expect(wrongTeam.status).toBe(400);
    expect(await erinRuns()).toBe(false);
    const approved = await call("ada", "POST", `/access-requests/${id}/approve`, {});
    expect(approved.body).toMatchObject({
      status: "approved",
      grant_target: "user:erin@example.com",
    });
    expect(await erinRuns()).toBe(true);
    // Still the text written: whichever surface shows it escapes it.
    expect(approved.body.reason).toBe("<script>alert(1)</script> please");
  });
});
