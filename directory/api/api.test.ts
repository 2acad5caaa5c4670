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
  type Authorizer,
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

/** The REST API through a real HTTP server: what a client with an API key sees. */

/** The real authorizer, with a switch that makes it fail as an unreachable OpenFGA would. */
function switchable(inner: Authorizer): { authorizer: Authorizer; outage: { on: boolean } } {
  const outage = { on: false };
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (outage.on) throw new Error("connect ECONNREFUSED 127.0.0.1:8080");
      return call(...args);
    };
  return {
    outage,
    authorizer: {
      backend: inner.backend,
      check: guard(inner.check.bind(inner)),
      batchCheck: guard(inner.batchCheck.bind(inner)),
      listObjects: guard(inner.listObjects.bind(inner)),
      listUsers: guard(inner.listUsers.bind(inner)),
      write: guard(inner.write.bind(inner)),
      read: guard(inner.read.bind(inner)),
      ping: guard(inner.ping.bind(inner)),
      close: () => inner.close(),
    },
  };
}

function manifest(name: string, extra: { owner?: string; view?: string[]; run?: string[] } = {}) {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: {
      name,
      title: `The ${name} agent`,
      description: "Sorts incoming tickets",
      owner: extra.owner ?? "team:support",
      tags: ["support"],
    },
    spec: {
      runtime: { type: "a2a", url: "https://agents.internal/x", api_key: { env: "X_KEY" } },
      skills: [{ name: "classify", examples: ["Where does this go?"] }],
      access: { view: extra.view ?? [], run: extra.run ?? [] },
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), "switchboard-api-"));
let db: Database;
let server: HttpServerHandle;
let services: DirectoryServices;
let outage: { on: boolean };
let inner: Authorizer;
const keyOf: Record<string, string> = {};

async function call(
  who: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: JsonBody; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (who) headers.authorization = `Bearer ${keyOf[who] ?? who}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}${API_BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as JsonBody) : {},
    headers: response.headers,
  };
}

beforeAll(async () => {
  db = await openDatabase({ dataDir: dir });
  await migrateLatest(db);
  inner = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
  const switched = switchable(inner);
  outage = switched.outage;
  services = createDirectoryServices({
    knex: db.knex,
    authorizer: switched.authorizer,
    access: new AccessPolicy(switched.authorizer, 5_000),
  });
  await inner.write([
    { user: "user:ada@example.com", relation: "admin", object: "team:support" },
    { user: "user:carol@example.com", relation: "member", object: "team:support" },
    { user: "user:bob@example.com", relation: "member", object: "team:research" },
  ]);
  // As `switchboard authz grant` does: the teams come with their tuples (members may register).
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
}, 60_000);

afterAll(async () => {
  await server.close(100);
  await inner.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("authentication", () => {
  it("refuses a request without credentials with 401, saying how to authenticate", async () => {
    const response = await call(undefined, "GET", "/agents");
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("unauthenticated");
    expect(response.body.error.message).toMatch(/Authorization: Bearer/);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("refuses an unknown key, a malformed header and a revoked key", async () => {
    expect((await call("sb_live_nonsense", "GET", "/agents")).body.error.message).toMatch(
      /not valid/,
    );
    const malformed = await fetch(`${server.url}${API_BASE}/agents`, {
      headers: { authorization: "Basic YWRhOnB3" },
    });
    expect(malformed.status).toBe(401);

    const user = await new UserDirectory(db.knex).ensureUser("dave@example.com");
    const key = await services.keys.create(
      { userId: user.id, userEmail: user.email },
      "system:test",
    );
    expect((await call(key.key, "GET", "/agents")).status).toBe(200);
    await services.keys.revoke(key.id, "system:test");
    const revoked = await call(key.key, "GET", "/agents");
    expect([revoked.status, revoked.body.error.message]).toEqual([
      401,
      "The API key was revoked. Create a new one.",
    ]);
  });

  it("records when a key was last used", async () => {
    await call("ada", "GET", "/agents");
    const ada = (await services.keys.list()).find((k) => k.userEmail === "ada@example.com");
    expect(ada?.lastUsedAt).toBeInstanceOf(Date);
  });
});

describe("agents", () => {
  it("registers an agent for its owners and answers in snake_case", async () => {
    const created = await call("ada", "POST", "/agents", manifest("triage", { run: ["user:*"] }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "triage",
      outcome: "created",
      agent: {
        name: "triage",
        owner: "team:support",
        runtime: "a2a",
        state: "enabled",
        state_reason: null,
        access: { view: [], run: ["user:*"] },
        permissions: { run: true, edit: true, own: true },
      },
    });
    await call("ada", "POST", "/agents", manifest("private"));
  });

  it("refuses to register for a team the caller does not administer, and a taken name", async () => {
    const refused = await call("carol", "POST", "/agents", manifest("carols"));
    expect([refused.status, refused.body.error.code]).toEqual([403, "forbidden"]);
    const taken = await call("ada", "POST", "/agents", manifest("triage"));
    expect([taken.status, taken.body.error.code]).toEqual([409, "conflict"]);
  });

  it("refuses to register for someone in no team, saying who may and how to ask", async () => {
    const refused = await call(
      "erin",
      "POST",
      "/agents",
      manifest("erins", { owner: "user:erin@example.com" }),
    );
    expect([refused.status, refused.body.error.message]).toEqual([
      403,
      "Only members of a team and platform admins may register agents here: ask a platform admin to add you to a team.",
    ]);
    // Not even a hidden agent's name tells her more.
    const hidden = await call(
      "erin",
      "POST",
      "/agents",
      manifest("private", { owner: "user:erin@example.com" }),
    );
    expect([hidden.status, hidden.body.error.message]).toEqual([403, refused.body.error.message]);
  });

  it("answers a clash with a hidden agent's name without saying that the agent exists", async () => {
    const hidden = await call(
      "bob",
      "POST",
      "/agents",
      manifest("private", { owner: "user:bob@example.com" }),
    );
    expect([hidden.status, hidden.body.error.code]).toEqual([409, "name_unavailable"]);
    expect(hidden.body.error.message).toBe(
      'The name "private" is not available; choose another name. If you believe the name should be yours, ask a platform admin.',
    );
    // A name he may view: he is told what he can see for himself.
    const visible = await call(
      "bob",
      "POST",
      "/agents",
      manifest("triage", { owner: "user:bob@example.com" }),
    );
    expect([visible.status, visible.body.error.message]).toEqual([
      409,
      'An agent named "triage" already exists; choose another name.',
    ]);
  });

  it("explains an invalid manifest field by field", async () => {
    const bad = manifest("broken", { run: ["everyone"] });
    (bad.spec.runtime as Record<string, unknown>).api_key = "sk-inline";
    const response = await call("ada", "POST", "/agents", bad);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_manifest");
    expect(response.body.error.details.problems.map((p: JsonBody) => p.path)).toEqual([
      "spec.runtime.api_key",
      "spec.access.run[0]",
    ]);
    const empty = await fetch(`${server.url}${API_BASE}/agents`, {
      method: "POST",
      headers: { authorization: `Bearer ${keyOf.ada}` },
    });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as JsonBody).error.message).toBe(
      "Send the agent's manifest (apiVersion, kind, metadata, spec) as a JSON body, with Content-Type: application/json.",
    );
  });

  it("lists only what the caller may view, with facets and a cursor", async () => {
    const bob = await call("bob", "GET", "/agents");
    expect(bob.body.items.map((a: JsonBody) => a.name)).toEqual(["triage"]);
    expect(bob.body.facets.owner).toEqual([{ value: "team:support", count: 1 }]);
    const first = await call("ada", "GET", "/agents?limit=1&facets=false");
    expect(first.body.items.map((a: JsonBody) => a.name)).toEqual(["private"]);
    expect(first.body.facets).toBeNull();
    const second = await call("ada", "GET", `/agents?limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((a: JsonBody) => a.name)).toEqual(["triage"]);
    const searched = await call(
      "ada",
      "GET",
      "/agents?q=TRIAGE&tag=support&lifecycle=experimental",
    );
    expect(searched.body.items.map((a: JsonBody) => a.name)).toEqual(["triage"]);
  });

  it("answers 404 for an agent the caller may not view, exactly as for one that does not exist", async () => {
    const hidden = await call("bob", "GET", "/agents/private");
    const missing = await call("bob", "GET", "/agents/no-such-agent");
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    expect(hidden.body.error.message).toBe(
      missing.body.error.message.replace("no-such-agent", "private"),
    );
    expect((await call("ada", "GET", "/agents/private")).status).toBe(200);
  });

  it("refuses an update without editor access, and an access change without owner access", async () => {
    const byRunner = await call("bob", "PUT", "/agents/triage", {
      ...manifest("triage", { run: ["user:*"] }),
    });
    expect(byRunner.status).toBe(403);
    expect(byRunner.body.error.message).toMatch(/view "triage" but not change it/);
    expect((await call("bob", "PUT", "/agents/private", manifest("private"))).status).toBe(404);

    await inner.write([
      { user: "user:carol@example.com", relation: "editor", object: "agent:triage" },
    ]);
    const retitled = manifest("triage", { run: ["user:*"] });
    retitled.metadata.title = "Ticket triage";
    const edited = await call("carol", "PUT", "/agents/triage", retitled);
    expect([edited.status, edited.body.outcome, edited.body.changes]).toEqual([
      200,
      "updated",
      ["metadata.title"],
    ]);
    const widened = await call(
      "carol",
      "PUT",
      "/agents/triage",
      manifest("triage", { view: ["user:*"] }),
    );
    expect(widened.status).toBe(403);
    const renamed = await call("ada", "PUT", "/agents/triage", manifest("other"));
    expect(renamed.status).toBe(400);
  });

  it("lets only owners delete, after which the agent is gone", async () => {
    expect((await call("carol", "DELETE", "/agents/triage")).status).toBe(403);
    const deleted = await fetch(`${server.url}${API_BASE}/agents/triage`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${keyOf.ada}` },
    });
    expect([deleted.status, await deleted.text()]).toEqual([204, ""]);
    expect((await call("ada", "GET", "/agents/triage")).status).toBe(404);
    expect((await call("bob", "GET", "/agents")).body.items).toEqual([]);
  });

  it("refuses bad queries with 400", async () => {
    expect((await call("ada", "GET", "/agents?limit=1000")).status).toBe(400);
    const cursor = await call("ada", "GET", "/agents?cursor=garbage");
    expect([cursor.status, cursor.body.error.message]).toEqual([
      400,
      "The cursor is not one this server gave out; start again without it.",
    ]);
  });

  it("answers 503 authz_unavailable, allowing nothing, when the authorizer fails", async () => {
    outage.on = true;
    try {
      for (const [method, path] of [
        ["GET", "/agents"],
        ["GET", "/agents/private"],
        ["DELETE", "/agents/private"],
      ] as const) {
        const response = await call("ada", method, path);
        expect([response.status, response.body.error.code]).toEqual([503, "authz_unavailable"]);
      }
      // A change that cannot write its access is not made at all.
      const create = await call("ada", "POST", "/agents", manifest("during-outage"));
      expect(create.status).toBe(503);
    } finally {
      outage.on = false;
    }
    expect((await call("ada", "GET", "/agents/private")).status).toBe(200);
    expect((await call("ada", "GET", "/agents/during-outage")).status).toBe(404);
  });
});

describe("documents", () => {
  it("serves the manifest JSON Schema without credentials", async () => {
    const response = await call(undefined, "GET", "/manifest-schema");
    expect(response.status).toBe(200);
    expect(response.body.properties.apiVersion).toEqual({
      type: "string",
      const: "switchboard/v1",
    });
  });

  it("serves an OpenAPI 3.1 document made from the routes", async () => {
    const { status, body } = await call(undefined, "GET", "/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    expect(Object.keys(body.paths).sort()).toEqual([
      "/access-requests",
      "/access-requests/{id}/approve",
      "/access-requests/{id}/deny",
      "/agents",
      "/agents/{name}",
      "/agents/{name}/access-requests",
      "/budgets",
      "/budgets/{id}",
      "/manifest-schema",
      "/openapi.json",
    ]);
    expect(Object.keys(body.paths["/agents/{name}"]).sort()).toEqual(["delete", "get", "put"]);
    const list = body.paths["/agents"].get;
    expect(list.parameters.map((p: JsonBody) => p.name)).toContain("cursor");
    expect(list.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/AgentList",
    });
    expect(body.components.schemas.AgentList.properties).toHaveProperty("next_cursor");
    expect(body.components.schemas.AgentManifest.properties.metadata.required).toContain("owner");
    expect(list.responses["404"]).toBeUndefined();
    expect(body.paths["/agents/{name}"].get.responses["404"]).toBeDefined();
    expect(body.paths["/openapi.json"].get.security).toEqual([]);
  });
});
