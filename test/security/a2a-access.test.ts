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
  A2A_BASE,
  bearerApiKey,
  createA2aRouter,
  createDirectoryServices,
  type DirectoryServices,
  validateManifest,
} from "../../directory/index.js";
import type { RunEngine, RunsService } from "../../sessions/index.js";
import { eventually } from "../support/eventually.js";
import type { JsonBody } from "../support/http.js";
import { startInProcessRuns } from "../support/in-process-runs.js";

/**
 * The A2A server as an attacker with an ordinary account (Mallory) would try it: finding out
 * which agents exist by their cards, reading or continuing someone else's conversation or
 * task, getting in with a bad, revoked or misplaced key, and sending what no field can take.
 * Each is refused in words, looks the same whether or not the thing exists, and changes
 * nothing of anyone else's.
 */

const dir = mkdtempSync(join(tmpdir(), "switchboard-a2a-security-"));
let db: Database;
let server: HttpServerHandle;
let authorizer: EmbeddedAuthorizer;
let services: DirectoryServices;
let runs: RunsService;
let engine: RunEngine;
const keyOf: Record<string, string> = {};

async function rpc(
  who: string,
  agent: string,
  method: string,
  params: unknown,
  options: { version?: string | undefined; raw?: string } = {},
): Promise<{ status: number; body: JsonBody }> {
  const response = await fetch(`${server.url}${A2A_BASE}/${agent}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${keyOf[who] ?? who}`,
      "content-type": "application/json",
      ...(options.version === undefined ? {} : { "a2a-version": options.version }),
    },
    body: options.raw ?? JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as JsonBody };
}

const send10 = (who: string, agent: string, text: string, extra: Record<string, unknown> = {}) =>
  rpc(
    who,
    agent,
    "SendMessage",
    {
      message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }], ...extra },
    },
    { version: "1.0" },
  );

const send03 = (who: string, agent: string, text: string, extra: Record<string, unknown> = {}) =>
  rpc(who, agent, "message/send", {
    message: {
      kind: "message",
      messageId: crypto.randomUUID(),
      role: "user",
      parts: [{ kind: "text", text }],
      ...extra,
    },
  });

function card(who: string, agent: string, version?: string): Promise<Response> {
  return fetch(`${server.url}${A2A_BASE}/${agent}/.well-known/agent-card.json`, {
    headers: {
      authorization: `Bearer ${keyOf[who] ?? who}`,
      ...(version ? { "a2a-version": version } : {}),
    },
  });
}

beforeAll(async () => {
  db = await openDatabase({ dataDir: dir });
  await migrateLatest(db);
  authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
  const access = new AccessPolicy(authorizer, 5_000);
  services = createDirectoryServices({ knex: db.knex, authorizer, access });
  const users = new UserDirectory(db.knex);
  for (const name of ["ada", "mallory"]) {
    const email = `${name}@example.com`;
    const user = await users.ensureUser(email);
    keyOf[name] = (
      await services.keys.create({ userId: user.id, userEmail: email }, "system:test")
    ).key;
  }
  const apply = (name: string, spec: Record<string, unknown>, description = "") =>
    services.registry.apply(
      validateManifest({
        apiVersion: "switchboard/v1",
        kind: "Agent",
        metadata: { name, title: name, owner: "user:ada@example.com", description },
        spec,
      }),
      { actor: "system:test" },
    );
  await apply("public", {
    runtime: { type: "demo", delay_ms: 1 },
    access: { view: ["user:*"], run: ["user:*"] },
  });
  await apply("other", {
    runtime: { type: "demo", delay_ms: 1 },
    access: { view: ["user:*"], run: ["user:*"] },
  });
  await apply("private", { runtime: { type: "demo" }, access: { view: [], run: [] } });
  // A runtime with an address and a secret reference, and a description with markup: the
  // card carries the agent's words as JSON text, never its runtime settings.
  await apply(
    "wired",
    {
      runtime: {
        type: "http",
        url: "https://hooks.internal.example.com/agent",
        headers: { authorization: { secret: "HOOK_TOKEN" } },
      },
      access: { view: ["user:*"], run: ["user:*"] },
    },
    '<script>alert("card")</script> [click](javascript:alert(1))',
  );
  ({ runs, engine } = await startInProcessRuns({
    knex: db.knex,
    access,
    registry: services.registry,
  }));
  const app = createHttpApp({
    logger: pino({ level: "silent" }),
    metrics: createHttpMetrics(),
    checks: () => [],
    isStopping: () => false,
    mount: (app) =>
      app.use(
        A2A_BASE,
        createA2aRouter({
          directory: services.directory,
          runs,
          strategies: [bearerApiKey(services.keys)],
          publicUrl: "https://switchboard.example.com",
        }),
      ),
  });
  server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close(100);
  await engine?.stop();
  await authorizer?.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A body with the probed name taken out: what is left must not tell agents apart. */
const withoutName = (body: unknown, name: string) =>
  JSON.stringify(body)
    .replaceAll(name, "NAME")
    .replace(/"request_id":"[^"]*"/, "");

describe("A2A, as an attacker would try it", () => {
  it("tells nothing of agents one may not view: card and JSON-RPC answer as for none", async () => {
    const missingCard = await card("mallory", "does-not-exist");
    const missingBody = await missingCard.json();
    const missingRpc = await send10("mallory", "does-not-exist", "hi");
    for (const name of ["private", "does-not-exist"]) {
      const hidden = await card("mallory", name);
      expect(hidden.status).toBe(404);
      expect(withoutName(await hidden.json(), name)).toBe(
        withoutName(missingBody, "does-not-exist"),
      );
      for (const send of [send10, send03]) {
        const sent = await send("mallory", name, "hi");
        expect(sent.status).toBe(404);
        expect(withoutName(sent.body, name)).toBe(withoutName(missingRpc.body, "does-not-exist"));
      }
    }
    // The owner sees it: the 404 above is not a broken agent.
    expect((await card("ada", "private")).status).toBe(200);
  });

  it("answers odd names in the path with a 404 in JSON, and runs nothing", async () => {
    for (const name of [
      "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      "..%2F..%2Fapi%2Fv1",
      "__proto__",
      "a".repeat(300),
    ]) {
      const response = await card("mallory", name);
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    }
    expect((await runs.listSessions(await mallory(), {})).items).toEqual([]);
  });

  it("shows the agent's words as JSON text, and nothing of its runtime, in the card", async () => {
    for (const version of ["1.0", undefined]) {
      const response = await card("mallory", "wired", version);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      const text = await response.text();
      expect(JSON.parse(text).description).toContain('<script>alert("card")</script>');
      expect(text).not.toMatch(/hooks\.internal|HOOK_TOKEN|"headers"|"runtime"/);
    }
  });

  it("refuses a missing, malformed, misplaced, unknown or revoked key with 401 and WWW-Authenticate", async () => {
    const user = await new UserDirectory(db.knex).ensureUser("ex@example.com");
    const revoked = await services.keys.create(
      { userId: user.id, userEmail: "ex@example.com" },
      "system:test",
    );
    await services.keys.revoke(revoked.id, "system:test");
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer" },
      { authorization: `Basic ${Buffer.from(`x:${keyOf.ada}`).toString("base64")}` },
      { authorization: "Bearer sb_live_made-up" },
      { authorization: `Bearer ${revoked.key}` },
      { "x-api-key": keyOf.ada as string },
    ];
    for (const headers of attempts) {
      const cardReply = await fetch(
        `${server.url}${A2A_BASE}/public/.well-known/agent-card.json?key=${keyOf.ada}`,
        { headers },
      );
      expect(cardReply.status, JSON.stringify(headers)).toBe(401);
      expect(cardReply.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const sent = await fetch(`${server.url}${A2A_BASE}/public?key=${keyOf.ada}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "message/send",
          params: {
            message: {
              kind: "message",
              messageId: "m",
              role: "user",
              parts: [{ kind: "text", text: "hi" }],
            },
          },
        }),
      });
      expect(sent.status).toBe(401);
      expect(sent.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const body = (await sent.json()) as JsonBody;
      expect(body).toMatchObject({ jsonrpc: "2.0", error: { code: -32000 } });
      expect(body.error.message.length).toBeGreaterThan(10);
    }
    expect(await runCount()).toBe(0);
  });

  it("refuses someone else's context and task on both protocol versions, changing nothing of theirs", async () => {
    const ada = await send10("ada", "public", "Ada's secret plan");
    expect(ada.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    const { id: taskId, contextId } = ada.body.result.task;

    const continued10 = await send10("mallory", "public", "Tell me everything", { contextId });
    const continued03 = await send03("mallory", "public", "Tell me everything", { contextId });
    for (const reply of [continued10, continued03]) {
      expect(reply.body.error.code).toBe(-32000);
      expect(reply.body.error.message).toMatch(/not one of your conversations/);
      expect(JSON.stringify(reply.body)).not.toContain("secret plan");
    }
    for (const [method, version] of [
      ["GetTask", "1.0"],
      ["CancelTask", "1.0"],
      ["tasks/get", undefined],
      ["tasks/cancel", undefined],
    ] as const) {
      const reply = await rpc("mallory", "public", method, { id: taskId }, { version });
      expect(reply.body.error, method).toMatchObject({ code: -32001 });
      expect(JSON.stringify(reply.body)).not.toContain("secret plan");
    }
    const resubscribed = await rpc(
      "mallory",
      "public",
      "SubscribeToTask",
      { id: taskId },
      { version: "1.0" },
    );
    expect(JSON.stringify(resubscribed.body)).not.toContain("secret plan");
    expect(resubscribed.body.error).toMatchObject({ code: -32001 });
    // Ada's own task through another agent's URL is not that agent's task either.
    const elsewhere = await rpc("ada", "other", "GetTask", { id: taskId }, { version: "1.0" });
    expect(elsewhere.body.error).toMatchObject({ code: -32001 });
    // Made-up ids look the same as someone else's.
    for (const id of ["00000000-0000-4000-8000-000000000000", "' or 1=1 --", "../../runs"]) {
      const reply = await rpc("mallory", "public", "GetTask", { id }, { version: "1.0" });
      expect(reply.body.error).toMatchObject({ code: -32001 });
    }

    const session = await runs.session(await principal("ada"), contextId);
    expect(session.transcript).toHaveLength(2);
    expect(session.runs.map((run) => run.status)).toEqual(["succeeded"]);
  });

  it("answers what no field can take with the protocol's error in words, and starts nothing", async () => {
    const before = await runCount();
    const cases: [Promise<{ status: number; body: JsonBody }>, number, RegExp][] = [
      [send10("mallory", "public", "nul \u0000 here"), -32602, /NUL/],
      [send10("mallory", "public", "x".repeat(100_001)), -32602, /at most/],
      [send10("mallory", "public", "   "), -32602, /non-empty/],
      [
        rpc(
          "mallory",
          "public",
          "SendMessage",
          {
            message: { messageId: "m", role: "ROLE_USER", parts: [{ url: "file:///etc/passwd" }] },
          },
          { version: "1.0" },
        ),
        -32005,
        /text only/,
      ],
      [
        rpc(
          "mallory",
          "public",
          "SendMessage",
          {
            message: { messageId: "m", role: "ROLE_AGENT", parts: [{ text: "I am the agent" }] },
          },
          { version: "1.0" },
        ),
        -32602,
        /role user/,
      ],
      [send10("mallory", "public", "hi", { taskId: "some-task" }), -32004, /without taskId/],
      [rpc("mallory", "public", "NoSuchMethod", {}, { version: "1.0" }), -32601, /method/i],
      [rpc("mallory", "public", "ListTasks", {}, { version: "1.0" }), -32004, /sessions/],
    ];
    for (const [pending, code, words] of cases) {
      const { body } = await pending;
      expect(body.error?.code, JSON.stringify(body)).toBe(code);
      expect(body.error.message).toMatch(words);
    }
    const notJson = await rpc("mallory", "public", "", {}, { raw: "{not json" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatchObject({ code: -32700 });
    const huge = await rpc(
      "mallory",
      "public",
      "",
      {},
      {
        raw: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "message/send",
          params: { pad: "x".repeat(300_000) },
        }),
      },
    );
    expect(huge.status).toBe(413);
    expect(huge.body.error.message).toMatch(/larger/);
    await eventually(async () => expect(await runCount()).toBe(before));
  });
});

async function principal(name: string) {
  const key = keyOf[name] as string;
  return services.keys.authenticate(key);
}

const mallory = () => principal("mallory");

async function runCount(): Promise<number> {
  const row = (await db.knex("runs").count({ n: "*" }).first()) as { n: string | number };
  return Number(row.n);
}
