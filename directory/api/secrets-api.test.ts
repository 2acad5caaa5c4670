import { randomBytes } from "node:crypto";
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
import { LocalKeyring, parseKeyring, SecretService, SecretStore } from "../../secrets/index.js";
import type { JsonBody } from "../../test/support/http.js";
import {
  API_BASE,
  createDefaultDirectoryApi,
  createDirectoryServices,
  validateManifest,
} from "../index.js";

/**
 * The secret store's REST API through a real HTTP server, as owners and as everyone else
 * would use it: nobody but a secret's owner learns anything of it, and no answer ever holds
 * a value.
 */

const VALUES = ["ada-triage-value-0001", "ada-triage-value-0002", "support-team-value-0003"];

const dir = mkdtempSync(join(tmpdir(), "switchboard-secrets-api-"));
let db: Database;
let authorizer: EmbeddedAuthorizer;
let server: HttpServerHandle;
let offServer: HttpServerHandle;
let services: ReturnType<typeof createDirectoryServices>;
const keyOf: Record<string, string> = {};
/** Every answer's text, to check that no value was ever in one. */
const answers: string[] = [];

async function call(
  who: string,
  method: string,
  path: string,
  body?: unknown,
  on = server,
): Promise<{ status: number; body: JsonBody }> {
  const response = await fetch(`${on.url}${API_BASE}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${keyOf[who]}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  answers.push(text);
  return { status: response.status, body: text ? (JSON.parse(text) as JsonBody) : {} };
}

function manifest(name: string, owner: string, view: string[]) {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title: name, owner },
    spec: { runtime: { type: "a2a", url: "https://agents.internal/x" }, access: { view } },
  };
}

async function serveWith(store: SecretStore) {
  const access = new AccessPolicy(authorizer, 5_000);
  const secrets = new SecretService({
    knex: db.knex,
    store,
    authorizer,
    access,
    audit: services.audit,
    agentExists: async (name) => (await services.registry.find(name)) !== undefined,
  });
  const app = createHttpApp({
    logger: createLogger({ level: "silent" }),
    metrics: createHttpMetrics(),
    checks: () => [],
    isStopping: () => false,
    mount: (app) => app.use(API_BASE, createDefaultDirectoryApi(services, [], undefined, secrets)),
  });
  return startHttpServer(app, { host: "127.0.0.1", port: 0 });
}

beforeAll(async () => {
  db = await openDatabase({ dataDir: dir });
  await migrateLatest(db);
  authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
  const access = new AccessPolicy(authorizer, 5_000);
  services = createDirectoryServices({ knex: db.knex, authorizer, access });
  await authorizer.write([
    { user: "user:tess@example.com", relation: "admin", object: "team:support" },
    { user: "user:carol@example.com", relation: "member", object: "team:support" },
  ]);
  const users = new UserDirectory(db.knex);
  for (const email of ["ada", "bob", "carol", "tess"].map((name) => `${name}@example.com`)) {
    const user = await users.ensureUser(email);
    const created = await services.keys.create({ userId: user.id, userEmail: email }, "test");
    keyOf[email.split("@")[0] as string] = created.key;
  }
  await services.registry.apply(
    validateManifest(manifest("triage", "user:ada@example.com", ["user:*"])),
    { actor: "test" },
  );
  await services.registry.apply(validateManifest(manifest("hidden", "team:research", [])), {
    actor: "test",
  });
  const keys = new LocalKeyring(parseKeyring(`k1:${randomBytes(32).toString("base64")}`));
  server = await serveWith(new SecretStore(db.knex, keys));
  offServer = await serveWith(new SecretStore(db.knex, undefined));
}, 60_000);

afterAll(async () => {
  await server.close(100);
  await offServer.close(100);
  await authorizer.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the secret store over the API", () => {
  it("creates a secret for its owner and answers with metadata only", async () => {
    const created = await call("ada", "PUT", "/secrets/Triage-Key", {
      value: VALUES[0],
      owner: "user:ada@example.com",
      description: "The triage agent's API key",
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      outcome: "created",
      secret: {
        name: "triage-key",
        owner: "user:ada@example.com",
        description: "The triage agent's API key",
        version: 1,
        agents: [],
        created_by: "user:ada@example.com",
        created_at: expect.any(String),
        updated_by: "user:ada@example.com",
        updated_at: expect.any(String),
      },
    });
    const updated = await call("ada", "PUT", "/secrets/triage-key", { value: VALUES[1] });
    expect([updated.status, updated.body.outcome, updated.body.secret.version]).toEqual([
      200,
      "updated",
      2,
    ]);
  });

  it("refuses to create for someone else, or without an owner or a value, in words", async () => {
    const forBob = await call("ada", "PUT", "/secrets/bobs", {
      value: "x1234",
      owner: "user:bob@example.com",
    });
    expect([forBob.status, forBob.body.error.message]).toEqual([
      403,
      "Only platform admins may create a secret owned by user:bob@example.com.",
    ]);
    const noOwner = await call("ada", "PUT", "/secrets/lonely", { value: "x1234" });
    expect(noOwner.body.error.message).toMatch(/give its owner: user:EMAIL or team:SLUG/);
    const noValue = await call("ada", "PUT", "/secrets/empty", { owner: "user:ada@example.com" });
    expect(noValue.body.error.message).toBe("The value must be a non-empty string.");
    const badName = await call("ada", "PUT", "/secrets/-bad", {
      value: "x",
      owner: "user:ada@example.com",
    });
    expect([badName.status, badName.body.error.message]).toEqual([
      400,
      expect.stringMatching(/is not a secret name/),
    ]);
    const extra = await call("ada", "PUT", "/secrets/extra", {
      value: "x1234",
      owner: "user:ada@example.com",
      shown: true,
    });
    expect(extra.status).toBe(400);
  });

  it("hides a secret from everyone but its owner: no reading, listing, overwriting, granting or deleting", async () => {
    expect((await call("bob", "GET", "/secrets/triage-key")).status).toBe(404);
    expect((await call("bob", "GET", "/secrets")).body).toEqual({ items: [] });
    const overwrite = await call("bob", "PUT", "/secrets/triage-key", {
      value: "bobs-value-0000",
      owner: "user:bob@example.com",
    });
    expect([overwrite.status, overwrite.body.error.code]).toEqual([409, "conflict"]);
    expect((await call("bob", "POST", "/secrets/triage-key/grants/triage")).status).toBe(404);
    expect((await call("bob", "DELETE", "/secrets/triage-key/grants/triage")).status).toBe(404);
    expect((await call("bob", "DELETE", "/secrets/triage-key")).status).toBe(404);
    // Ada's secret is untouched, at the version she left it.
    expect((await call("ada", "GET", "/secrets/triage-key")).body).toMatchObject({
      version: 2,
      agents: [],
    });
  });

  it("grants only to agents that exist and that the owner may edit, and revokes", async () => {
    const granted = await call("ada", "POST", "/secrets/triage-key/grants/triage");
    expect([granted.status, granted.body.agents]).toEqual([200, ["triage"]]);
    const hidden = await call("ada", "POST", "/secrets/triage-key/grants/hidden");
    const missing = await call("ada", "POST", "/secrets/triage-key/grants/not-yet-registered");
    expect([hidden.status, hidden.body.error.message]).toEqual([
      404,
      'The agent "hidden" was not found.',
    ]);
    expect([missing.status, missing.body.error.message]).toEqual([
      404,
      'The agent "not-yet-registered" was not found.',
    ]);
    expect(
      await authorizer.check({
        user: "agent:triage",
        relation: "used_by",
        object: "secret:triage-key",
      }),
    ).toBe(true);
    const revoked = await call("ada", "DELETE", "/secrets/triage-key/grants/triage");
    expect([revoked.status, revoked.body.agents]).toEqual([200, []]);

    // Bob may view (and run) Ada's agent but not edit it: his own credential cannot be
    // slipped under a name her manifest might refer to.
    await call("bob", "PUT", "/secrets/bobs-key", {
      value: "bobs-value-1234",
      owner: "user:bob@example.com",
    });
    const slipped = await call("bob", "POST", "/secrets/bobs-key/grants/triage");
    expect([slipped.status, slipped.body.error.message]).toEqual([
      403,
      'A secret can be granted only to an agent you may edit, so its owners agree to what it sends; ask an owner of "triage" to grant it.',
    ]);
    expect(
      await authorizer.check({
        user: "agent:triage",
        relation: "used_by",
        object: "secret:bobs-key",
      }),
    ).toBe(false);
    expect(
      await authorizer.check({
        user: "agent:triage",
        relation: "used_by",
        object: "secret:triage-key",
      }),
    ).toBe(false);
  });

  it("lets a team's admins own its secrets, and not its plain members", async () => {
    const byMember = await call("carol", "PUT", "/secrets/support-key", {
      value: VALUES[2],
      owner: "team:support",
    });
    expect(byMember.status).toBe(403);
    const byAdmin = await call("tess", "PUT", "/secrets/support-key", {
      value: VALUES[2],
      owner: "team:support",
    });
    expect(byAdmin.status).toBe(201);
    expect((await call("tess", "GET", "/secrets")).body.items.map((s: JsonBody) => s.name)).toEqual(
      ["support-key"],
    );
    expect((await call("carol", "GET", "/secrets/support-key")).status).toBe(404);
    expect((await call("ada", "GET", "/secrets")).body.items.map((s: JsonBody) => s.name)).toEqual([
      "triage-key",
    ]);
  });

  it("deletes a secret with its grants: a namesake made later starts with none", async () => {
    await call("ada", "PUT", "/secrets/short-lived", {
      value: "short-lived-1",
      owner: "user:ada@example.com",
    });
    await call("ada", "POST", "/secrets/short-lived/grants/triage");
    expect((await call("ada", "DELETE", "/secrets/short-lived")).status).toBe(204);
    expect((await call("ada", "GET", "/secrets/short-lived")).status).toBe(404);
    const again = await call("bob", "PUT", "/secrets/short-lived", {
      value: "bobs-namesake",
      owner: "user:bob@example.com",
    });
    expect([again.status, again.body.secret.agents]).toEqual([201, []]);
    expect(
      await authorizer.check({
        user: "agent:triage",
        relation: "used_by",
        object: "secret:short-lived",
      }),
    ).toBe(false);
  });

  // Retiring an agent must take its grants with it, or whoever registers the name next
  // inherits them: retire() removes every tuple naming the agent, as object or as user.
  it("takes a retired agent's grants away with it", async () => {
    await services.registry.apply(
      validateManifest(manifest("retiring", "user:ada@example.com", [])),
      { actor: "test" },
    );
    await call("ada", "PUT", "/secrets/retiring-key", {
      value: "retiring-1",
      owner: "user:ada@example.com",
    });
    expect((await call("ada", "POST", "/secrets/retiring-key/grants/retiring")).status).toBe(200);
    expect((await call("ada", "DELETE", "/agents/retiring")).status).toBe(204);
    expect(
      await authorizer.check({
        user: "agent:retiring",
        relation: "used_by",
        object: "secret:retiring-key",
      }),
    ).toBe(false);
  });

  it("says, when the store is off, which setting turns it on", async () => {
    const off = await call("ada", "GET", "/secrets", undefined, offServer);
    expect([off.status, off.body.error.code]).toEqual([503, "secret_store_off"]);
    expect(off.body.error.message).toMatch(/set SECRETS_KEYS/);
  });

  it("documents the routes in the OpenAPI document", async () => {
    const document = await call("ada", "GET", "/openapi.json");
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining(["/secrets", "/secrets/{name}", "/secrets/{name}/grants/{agent}"]),
    );
  });

  it("never put a value in an answer, or in the audit log", async () => {
    const audit = JSON.stringify(await db.knex("audit_log").where({ target_type: "secret" }));
    expect(audit).toContain("secret.created");
    for (const value of VALUES) {
      expect(answers.join("\n")).not.toContain(value);
      expect(audit).not.toContain(value);
    }
  });
});
