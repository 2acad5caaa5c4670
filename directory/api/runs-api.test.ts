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
import type { RunEngine } from "../../sessions/index.js";
import { eventually } from "../../test/support/eventually.js";
import type { JsonBody } from "../../test/support/http.js";
import { startInProcessRuns } from "../../test/support/in-process-runs.js";
import {
  API_BASE,
  createDefaultDirectoryApi,
  createDirectoryServices,
  type DirectoryServices,
  validateManifest,
} from "../index.js";

/** Running agents through the REST API: what a client with an API key sees. */

function manifest(name: string, runtime: Record<string, unknown>) {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title: `The ${name} agent`, owner: "team:support" },
    spec: {
      runtime,
      access: { view: ["user:dave@example.com"], run: ["team:support"] },
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), "switchboard-runs-api-"));
let db: Database;
let server: HttpServerHandle;
let services: DirectoryServices;
let authorizer: EmbeddedAuthorizer;
let engine: RunEngine;
const keyOf: Record<string, string> = {};

interface Reply {
  status: number;
  body: JsonBody;
}

async function call(
  who: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${server.url}${API_BASE}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${keyOf[who]}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as JsonBody) : {} };
}

const start = (who: string, agent: string, body: unknown, headers?: Record<string, string>) =>
  call(who, "POST", `/agents/${agent}/runs`, body, headers);

async function finished(who: string, runId: string): Promise<JsonBody> {
  return eventually(async () => {
    const { body } = await call(who, "GET", `/runs/${runId}`);
    expect(body.status).toMatch(/succeeded|failed|cancelled/);
    return body;
  });
}

interface StreamedEvent {
  id: number;
  event: string;
  data: JsonBody;
}

/** Reads a run's SSE stream to its end (the server closes it after the closing event). */
async function readEvents(
  who: string,
  runId: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string | null; events: StreamedEvent[] }> {
  const response = await fetch(`${server.url}${API_BASE}/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${keyOf[who]}`, ...headers },
  });
  const text = await response.text();
  const events: StreamedEvent[] = [];
  for (const block of text.split("\n\n")) {
    const fields = Object.fromEntries(
      block
        .split("\n")
        .filter((line) => line && !line.startsWith(":"))
        .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
    );
    if (fields.id) {
      events.push({ id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data) });
    }
  }
  return { status: response.status, contentType: response.headers.get("content-type"), events };
}

beforeAll(async () => {
  db = await openDatabase({ dataDir: dir });
  await migrateLatest(db);
  authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
  const access = new AccessPolicy(authorizer, 5_000);
  services = createDirectoryServices({ knex: db.knex, authorizer, access });
  await authorizer.write([
    { user: "user:ada@example.com", relation: "admin", object: "team:support" },
    { user: "user:carol@example.com", relation: "member", object: "team:support" },
  ]);
  const users = new UserDirectory(db.knex);
  for (const email of ["ada", "bob", "carol", "dave"].map((name) => `${name}@example.com`)) {
    const user = await users.ensureUser(email);
    const created = await services.keys.create(
      { userId: user.id, userEmail: email },
      "system:test",
    );
    keyOf[email.split("@")[0] as string] = created.key;
  }
  const context = { actor: "system:test" };
  await services.registry.apply(
    validateManifest(manifest("echo", { type: "demo", delay_ms: 0 })),
    context,
  );
  await services.registry.apply(
    validateManifest(manifest("slow", { type: "demo", delay_ms: 150 })),
    context,
  );
  await services.registry.apply(validateManifest(manifest("paused", { type: "demo" })), context);
  await services.registry.setState("paused", "suspended", "being upgraded", context);
  await services.registry.apply(
    validateManifest(manifest("elsewhere", { type: "bedrock-agentcore", arn: "arn:x" })),
    context,
  );

  const started = await startInProcessRuns({ knex: db.knex, access, registry: services.registry });
  const runs = started.runs;
  engine = started.engine;
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
  await engine.stop();
  await authorizer.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("running an agent", () => {
  it("answers two turns of one session, and keeps the transcript", async () => {
    const first = await start("carol", "echo", { input: "hello" });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      status: "queued",
      agent: "echo",
      input: "hello",
      output: null,
    });
    expect(first.body.links.events).toBe(`/api/v1/runs/${first.body.id}/events`);
    expect((await finished("carol", first.body.id)).output).toContain("turn 1");

    const second = await start("carol", "echo", {
      input: "and again",
      session_id: first.body.session_id,
    });
    expect(second.body.session_id).toBe(first.body.session_id);
    const done = await finished("carol", second.body.id);
    expect(done).toMatchObject({ status: "succeeded", attempt: 1 });
    expect(done.output).toContain('"and again". This is turn 2');

    const session = await call("carol", "GET", `/sessions/${first.body.session_id}`);
    expect(
      session.body.transcript.map((entry: JsonBody) => [entry.role, entry.content.slice(0, 12)]),
    ).toEqual([
      ["user", "hello"],
      ["agent", 'You said: "h'],
      ["user", "and again"],
      ["agent", 'You said: "a'],
    ]);
    expect(session.body.runs.map((run: JsonBody) => run.id)).toEqual([
      first.body.id,
      second.body.id,
    ]);

    const mine = await call("carol", "GET", "/sessions?agent=echo");
    expect(mine.body.items.map((item: JsonBody) => item.id)).toContain(first.body.session_id);
    expect((await call("bob", "GET", "/sessions")).body.items).toEqual([]);
  });

  it("returns the first run when a request is repeated with the same Idempotency-Key", async () => {
    const headers = { "idempotency-key": "5b0c1c9e-retry-me" };
    const first = await start("carol", "echo", { input: "only once" }, headers);
    const again = await start("carol", "echo", { input: "only once" }, headers);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(first.body.id);
    const reused = await start("carol", "echo", { input: "something else" }, headers);
    expect(reused.status).toBe(409);
    expect(reused.body.error.message).toMatch(/Idempotency-Key was already used/);
    // Keys are per person: another person's identical key is another request.
    expect((await start("ada", "echo", { input: "only once" }, headers)).status).toBe(201);
    const bad = await start(
      "carol",
      "echo",
      { input: "x" },
      { "idempotency-key": "has spaces in it" },
    );
    expect(bad.status).toBe(400);
  });

  it("refuses bad input with a message that says what to send, and starts nothing", async () => {
    const before = await db.knex("runs").count({ n: "*" });
    for (const body of [
      {},
      { input: "" },
      { input: "   " },
      { input: 42 },
      { input: "hi", colour: "blue" },
    ]) {
      const reply = await start("carol", "echo", body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.message).toMatch(/input/);
    }
    expect((await start("carol", "echo", "{not json")).status).toBe(400);
    const noBody = await start("carol", "echo", undefined);
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.message).toBe(
      'Send what to ask the agent as a JSON body, {"input": "…"} (and "session_id" to continue one of your sessions), with Content-Type: application/json.',
    );
    const longName = await start("carol", "a".repeat(5000), { input: "hi" });
    expect(longName.status).toBe(404);
    expect(longName.body.error.message).toBe(`/agents/${"a".repeat(92)}… was not found.`);
    const tooLong = await start("carol", "echo", { input: "x".repeat(100_001) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/at most 100000/);
    const unknownSession = await start("carol", "echo", {
      input: "hi",
      session_id: "not-a-session",
    });
    expect(unknownSession.status).toBe(400);
    const after = await db.knex("runs").count({ n: "*" });
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});

describe("who may run and read", () => {
  it("hides an agent from someone who may not view it, and refuses one who may only view it", async () => {
    expect((await start("bob", "echo", { input: "hi" })).status).toBe(404);
    const viewer = await start("dave", "echo", { input: "hi" });
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.message).toMatch(/may view "echo" but not run it/);
    expect((await start("carol", "no-such-agent", { input: "hi" })).status).toBe(404);
  });

  it("lets the person and the agent's editors read a run, and nobody else", async () => {
    const run = await start("carol", "echo", { input: "private" });
    await finished("carol", run.body.id);
    expect((await call("ada", "GET", `/runs/${run.body.id}`)).status).toBe(200); // team admin: editor
    expect((await call("dave", "GET", `/runs/${run.body.id}`)).status).toBe(404);
    expect((await call("bob", "GET", `/sessions/${run.body.session_id}`)).status).toBe(404);
    expect((await call("bob", "GET", "/runs/00000000-0000-4000-8000-000000000000")).status).toBe(
      404,
    );
  });

  it("continues only one's own session, and only with its agent", async () => {
    const run = await start("carol", "echo", { input: "mine" });
    const hijack = await start("ada", "echo", {
      input: "mine now",
      session_id: run.body.session_id,
    });
    expect(hijack.status).toBe(404);
    const otherAgent = await start("carol", "slow", {
      input: "hi",
      session_id: run.body.session_id,
    });
    expect(otherAgent.status).toBe(409);
  });

  it("refuses a suspended agent with its reason, and one on a runtime this Switchboard cannot drive", async () => {
    const paused = await start("carol", "paused", { input: "hi" });
    expect(paused.status).toBe(409);
    expect(paused.body.error).toMatchObject({
      code: "agent_unavailable",
      message: '"paused" is suspended: being upgraded.',
    });
    const elsewhere = await start("carol", "elsewhere", { input: "hi" });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error.code).toBe("runtime_unsupported");
  });
});

describe("following a run", () => {
  it("streams every event in order as Server-Sent Events, ending after the closing status", async () => {
    const run = await start("carol", "slow", { input: "tell me a story" });
    const stream = await readEvents("carol", run.body.id);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    expect(stream.events.map((event) => event.id)).toEqual(
      stream.events.map((_, index) => index + 1),
    );
    expect(stream.events[0]).toMatchObject({ event: "run.status", data: { status: "queued" } });
    expect(stream.events.at(-1)).toMatchObject({
      event: "run.status",
      data: { status: "succeeded" },
    });
    const text = stream.events
      .filter((event) => event.event === "message.delta")
      .map((event) => event.data.text)
      .join("");
    expect(text).toBe(stream.events.find((event) => event.event === "message")?.data.text);
    // The API's names are snake_case, the event stream's too.
    const usage = stream.events.find((event) => event.event === "usage");
    expect(usage?.data).toHaveProperty("input_tokens");
    expect(usage?.data).toHaveProperty("output_tokens");
    for (const event of stream.events) {
      expect(
        Object.keys(event.data).filter((key) => /[A-Z]/.test(key)),
        event.event,
      ).toEqual([]);
    }
  });

  it("resumes after Last-Event-ID without gaps or repeats", async () => {
    const run = await start("carol", "echo", { input: "resume me" });
    const all = await readEvents("carol", run.body.id);
    const resumed = await readEvents("carol", run.body.id, { "last-event-id": "3" });
    expect(resumed.events.map((event) => event.id)).toEqual(
      all.events.slice(3).map((event) => event.id),
    );
    expect((await readEvents("carol", run.body.id, { "last-event-id": "three" })).status).toBe(400);
    expect((await readEvents("bob", run.body.id)).status).toBe(404);
  });

  it("cancels a running run: the stream ends cancelled, and a second cancel is refused", async () => {
    const run = await start("carol", "slow", { input: "a long story" });
    await eventually(async () => {
      expect((await call("carol", "GET", `/runs/${run.body.id}`)).body.status).toBe("running");
    });
    const cancel = await call("carol", "POST", `/runs/${run.body.id}/cancel`);
    expect(cancel.status).toBe(202);
    const stream = await readEvents("carol", run.body.id);
    expect(stream.events.at(-1)?.data.status).toBe("cancelled");
    const done = await finished("carol", run.body.id);
    expect(done).toMatchObject({ status: "cancelled", output: null });
    expect((await call("carol", "POST", `/runs/${run.body.id}/cancel`)).status).toBe(409);
    expect((await call("bob", "POST", `/runs/${run.body.id}/cancel`)).status).toBe(404);
  });
});

describe("the API's description", () => {
  it("documents the runs and sessions routes, the event stream as text/event-stream", async () => {
    const response = await fetch(`${server.url}${API_BASE}/openapi.json`);
    const document = (await response.json()) as JsonBody;
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        "/agents/{name}/runs",
        "/runs/{id}",
        "/runs/{id}/events",
        "/runs/{id}/cancel",
        "/sessions",
        "/sessions/{id}",
        "/sessions/{id}/close",
      ]),
    );
    expect(Object.keys(document.paths["/runs/{id}/events"].get.responses["200"].content)).toEqual([
      "text/event-stream",
    ]);
    expect(document.components.schemas.Run.properties.status.enum).toContain("needs_approval");
    // The A2A server beside the API: its card and JSON-RPC, each on its own server root,
    // and every agent's card URL in the agent lists.
    expect(document.paths["/a2a/{agent}"]).toMatchObject({
      servers: [{ url: "/" }],
      post: { operationId: "a2aJsonRpc" },
    });
    expect(document.paths["/a2a/{agent}/.well-known/agent-card.json"].get.operationId).toBe(
      "getA2aAgentCard",
    );
    expect(document.components.schemas.Agent.properties).toHaveProperty("a2a_card_url");
  });
});
