import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../app/db/index.js";
import { issueProxyKey, revokeProxyKey, revokeRunKeys } from "../../proxy/index.js";
import { RuntimeError } from "../../runtimes/index.js";
import { eventually } from "../../test/support/eventually.js";
import { BullMqQueue } from "../queue/bullmq-queue.js";
import type { Run } from "../records.js";
import { LocalRunSignals } from "../signals/run-signals.js";
import type { RunStore } from "../store/run-store.js";
import type { SessionStore } from "../store/session-store.js";
import { EngineFixture, echo, untilAborted } from "../testing/engine-fixture.js";
import { PersonIds } from "./person-ids.js";
import type { AgentSecrets } from "./run-executor.js";
import type { RunKeys } from "./run-keys.js";

describe("RunEngine on PostgreSQL", () => {
  let fixture: EngineFixture;
  let db: Database;
  let runs: RunStore;
  let sessions: SessionStore;
  let userId: string;
  let runtime: EngineFixture["runtime"];
  const addAgent: EngineFixture["addAgent"] = (...args) => fixture.addAgent(...args);
  const startEngine: EngineFixture["startEngine"] = (...args) => fixture.startEngine(...args);
  const ask: EngineFixture["ask"] = (...args) => fixture.ask(...args);
  const finished: EngineFixture["finished"] = (...args) => fixture.finished(...args);

  beforeAll(async () => {
    fixture = await EngineFixture.open("runs_engine");
    ({ db, runs, sessions, userId, runtime } = fixture);
  });
  afterAll(async () => {
    await fixture.close();
  });
  beforeEach(() => runtime.reset());
  afterEach(() => fixture.stopEngines());

  it("runs the turns of one session one at a time, in order, continuing the runtime's session", async () => {
    const agent = await addAgent("ordered");
    runtime.script = echo(40);
    const engine = startEngine();
    await engine.start();
    const conversation = randomUUID();
    const asked: Run[] = [];
    for (const input of ["one", "two", "three"]) {
      const { run } = await runs.create({
        agent: { id: agent.id, runtime: "scripted" },
        userId,
        input,
        conversation: { surface: "api", conversationKey: conversation },
      });
      asked.push(run);
      // Every run gets its own job, as the service queues them: only one may drain at a time.
      void engine.drain({ sessionId: run.sessionId, runId: run.id });
    }
    const done = await Promise.all(asked.map((run) => finished(run.id)));

    expect(done.map((run) => run.output)).toEqual([
      "one (turn 1)",
      "two (turn 2)",
      "three (turn 3)",
    ]);
    expect(runtime.maxActive).toBe(1);
    expect(runtime.received.map((turn) => turn.input)).toEqual(["one", "two", "three"]);
    expect(runtime.received[2]?.transcript).toEqual([
      { role: "user", content: "one" },
      { role: "agent", content: "one (turn 1)" },
      { role: "user", content: "two" },
      { role: "agent", content: "two (turn 2)" },
    ]);
    const transcript = await sessions.transcript(asked[0]?.sessionId ?? "");
    expect(transcript.map((entry) => entry.role)).toEqual([
      "user",
      "agent",
      "user",
      "agent",
      "user",
      "agent",
    ]);
  });

  it("gives each turn its person's opaque id: stable, per person, never the user id or email", async () => {
    const agent = await addAgent("person-ids");
    const engine = startEngine();
    const bob = await fixture.addUser("bob@example.com");
    const conversation = randomUUID();
    for (const run of [
      await ask(engine, agent, "one", conversation),
      await ask(engine, agent, "two", conversation),
      await ask(engine, agent, "elsewhere"),
      await ask(engine, agent, "bob's", undefined, undefined, bob),
    ]) {
      expect((await finished(run.id)).status).toBe("succeeded");
    }
    const ids = runtime.received.map((turn) => turn.personId);
    expect(ids[0]).toMatch(/^sb-[0-9a-f]{64}$/);
    expect(ids.slice(0, 3)).toEqual([ids[0], ids[0], ids[0]]);
    expect(ids[3]).toMatch(/^sb-[0-9a-f]{64}$/);
    expect(ids[3]).not.toBe(ids[0]);
    for (const id of ids) {
      for (const known of [userId, bob, "ada@example.com", "bob@example.com"]) {
        expect(id).not.toContain(known);
      }
    }
    // Another process of the deployment (a second key reader) derives the same ids.
    expect(await new PersonIds(db.knex).of(userId)).toBe(ids[0]);
    const [{ n }] = await db.knex("person_id_key").count({ n: "*" });
    expect(Number(n)).toBe(1);
  });

  it("runs different sessions at the same time", async () => {
    const agent = await addAgent("parallel");
    runtime.script = echo(150);
    const engine = startEngine();
    await engine.start();
    const asked = await Promise.all(["a", "b", "c"].map((input) => ask(undefined, agent, input)));
    await Promise.all(asked.map((run) => engine.drain({ sessionId: run.sessionId })));
    await Promise.all(asked.map((run) => finished(run.id)));
    expect(runtime.maxActive).toBe(3);
  });

  it("keeps the timeline in order: queued, running, deltas, message, succeeded", async () => {
    const agent = await addAgent("timeline");
    const engine = startEngine();
    const run = await ask(engine, agent, "hello");
    const events = await runs.events(run.id);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.map((event) => event.type)).toEqual([
      "run.status",
      "run.status",
      "message.delta",
      "message.delta",
      "message",
      "run.status",
    ]);
    expect(events.at(-1)?.data).toEqual({ status: "succeeded" });
    expect(events.at(-2)?.data).toEqual({ text: "hello (turn 1)" });
  });

  it("tries a turn again after a failure that may pass, and says so in the timeline", async () => {
    const agent = await addAgent("flaky");
    let calls = 0;
    runtime.script = async function* (request) {
      calls += 1;
      if (calls < 3)
        throw new RuntimeError("runtime_unavailable", "The agent answered HTTP 503", {
          retryable: true,
        });
      yield* echo()(request);
    };
    const engine = startEngine();
    const run = await ask(engine, agent, "hello");
    const done = await finished(run.id);
    expect(done.status).toBe("succeeded");
    expect(done.attempt).toBe(3);
    const failures = (await runs.events(run.id)).filter((event) => event.type === "attempt.failed");
    expect(failures.map((event) => event.data.attempt)).toEqual([1, 2]);
    expect(failures[0]?.data.message).toBe("The agent answered HTTP 503");
  });

  it("fails at once, in the runtime's own words, when the failure will not pass", async () => {
    const agent = await addAgent("refusing");
    runtime.script = async function* () {
      yield { type: "handle", handle: {} };
      throw new RuntimeError("runtime_rejected", "The agent refused the request: unknown skill");
    };
    const engine = startEngine();
    const run = await ask(engine, agent, "hello");
    const done = await finished(run.id);
    expect(done).toMatchObject({
      status: "failed",
      attempt: 1,
      error: { code: "runtime_rejected", message: "The agent refused the request: unknown skill" },
    });
    expect(runtime.received).toHaveLength(1);
  });

  it("gives up after the last attempt", async () => {
    const agent = await addAgent("down");
    runtime.script = async function* () {
      yield* [];
      throw new RuntimeError("runtime_unavailable", "The agent could not be reached", {
        retryable: true,
      });
    };
    const engine = startEngine({ maxAttempts: 2 });
    const run = await ask(engine, agent, "hello");
    const done = await finished(run.id);
    expect(done).toMatchObject({
      status: "failed",
      attempt: 2,
      error: { code: "runtime_unavailable" },
    });
  });

  it("does not let a bug in an adapter reach the person: a plain message, the run failed", async () => {
    const agent = await addAgent("buggy");
    runtime.script = async function* () {
      yield* [];
      throw new TypeError("Cannot read properties of undefined (reading 'text')");
    };
    const engine = startEngine();
    const done = await finished((await ask(engine, agent, "hello")).id);
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("internal_error");
    expect(done.error?.message).not.toContain("undefined");
  });

  it("resolves each turn's secrets for the run's own agent, at the runtime's call", async () => {
    const agent = await addAgent("keyed");
    const boundTo: string[] = [];
    const secrets: AgentSecrets = (bound) => {
      boundTo.push(bound.name);
      return async () => `value-for-${bound.name}`;
    };
    runtime.script = async function* (request) {
      const value = await request.secrets({ secret: "api-key" });
      yield { type: "message", text: value.length > 0 ? "resolved" : "empty" };
    };
    const engine = startEngine({ secrets });
    const done = await finished((await ask(engine, agent, "hello")).id);
    expect(done).toMatchObject({ status: "succeeded", output: "resolved" });
    expect(boundTo).toEqual(["keyed"]);
  });

  it("keeps a resolved secret out of everything the run stores and shows, even echoed back", async () => {
    const agent = await addAgent("echoing");
    const value = "sk-live-0123456789abcdef";
    const secrets: AgentSecrets = () => async () => value;
    let turn = 0;
    runtime.script = async function* (request) {
      const key = await request.secrets({ secret: "api-key" });
      turn += 1;
      yield { type: "handle", handle: { session: `s-${key}` } };
      yield { type: "status", status: "working", message: `authenticated with ${key}` };
      // Split across deltas: no one delta holds the whole value.
      yield { type: "message_delta", text: `your key is ${key.slice(0, 10)}` };
      yield { type: "message_delta", text: `${key.slice(10)}, keep it safe` };
      yield { type: "tool_use", name: "call", input: { headers: { authorization: key } } };
      if (turn === 2) throw new RuntimeError("runtime_rejected", `The agent refused ${key}`);
    };
    const engine = startEngine({ secrets });
    const first = await finished((await ask(engine, agent, "hello")).id);
    const failed = await finished((await ask(engine, agent, "again")).id);
    expect(first.status).toBe("succeeded");
    expect(first.output).toBe("your key is [secret], keep it safe");
    expect(failed.error?.message).toBe("The agent refused [secret]");
    const stored = JSON.stringify([
      first,
      failed,
      await runs.events(first.id),
      await runs.events(failed.id),
      await sessions.get(first.sessionId),
      await db.knex("messages").select("content"),
    ]);
    expect(stored).not.toContain(value);
    expect(stored).not.toContain(value.slice(0, 10) + value.slice(10, 14));
    const deltas = (await runs.events(first.id)).filter((event) => event.type === "message.delta");
    expect(deltas.map((event) => event.data.text).join("")).toBe(first.output);
  });

  it("stops a turn that runs past its time limit, telling the runtime", async () => {
    const agent = await addAgent("slow");
    runtime.script = untilAborted;
    const engine = startEngine({ timeoutMs: 300 });
    const done = await finished((await ask(engine, agent, "hello")).id);
    expect(done).toMatchObject({ status: "failed", error: { code: "timeout" } });
    expect(runtime.received[0]?.signal.aborted).toBe(true);
  });

  it("holds a time limit stored before the bound to 24 hours, rather than failing the turn at once", async () => {
    // 3,000,000 s is past setTimeout's 2^31-1 ms: unbounded, the timer fires at once.
    const agent = await addAgent("patient", { timeoutSeconds: 3_000_000 });
    runtime.script = echo(100);
    const done = await finished((await ask(startEngine(), agent, "take your time")).id);
    expect(done).toMatchObject({ status: "succeeded", output: "take your time (turn 1)" });
  });

  it("refuses to run a suspended agent, giving the reason", async () => {
    const agent = await addAgent("paused", { state: "suspended", stateReason: "being upgraded" });
    const engine = startEngine();
    const done = await finished((await ask(engine, agent, "hello")).id);
    expect(done.error).toEqual({
      code: "agent_unavailable",
      message: 'The agent "paused" is suspended: being upgraded.',
    });
    expect(runtime.received).toHaveLength(0);
  });

  it("cancels a queued run before it reaches the runtime", async () => {
    const agent = await addAgent("cancel-queued");
    const run = await ask(undefined, agent, "hello");
    const cancelled = await runs.requestCancel(run.id);
    expect(cancelled?.status).toBe("cancelled");
    const engine = startEngine();
    await engine.drain({ sessionId: run.sessionId });
    expect(runtime.received).toHaveLength(0);
    expect((await runs.events(run.id)).at(-1)?.data.status).toBe("cancelled");
  });

  it("cancels a running run: the runtime is told and the run ends cancelled", async () => {
    const agent = await addAgent("cancel-running");
    runtime.script = untilAborted;
    const signals = new LocalRunSignals();
    const engine = startEngine({ signals, concurrency: 2 });
    await engine.start();
    const run = await ask(undefined, agent, "a long task");
    const draining = engine.drain({ sessionId: run.sessionId });
    await eventually(async () => expect(runtime.received).toHaveLength(1));
    await runs.requestCancel(run.id);
    signals.cancelRequested(run.id);
    await draining;
    const done = await finished(run.id);
    expect(done.status).toBe("cancelled");
    expect(runtime.received[0]?.signal.aborted).toBe(true);
  });

  it("keeps what a cancelled turn reports while it stops: the runtime's new handle and its cost", async () => {
    const agent = await addAgent("cancel-reports");
    runtime.script = async function* (request) {
      yield* untilAborted(request);
      // As AgentCore does: it stopped its session, and the turn's compute cost money.
      yield { type: "usage", usage: { inputTokens: 0, outputTokens: 0, costUsd: 0.25 } };
      yield { type: "handle", handle: { turn: 1, stopped: true } };
      yield { type: "message_delta", text: "not shown" };
    };
    const signals = new LocalRunSignals();
    const engine = startEngine({ signals });
    await engine.start();
    const run = await ask(undefined, agent, "a long task");
    const draining = engine.drain({ sessionId: run.sessionId });
    await eventually(async () => expect(runtime.received).toHaveLength(1));
    await runs.requestCancel(run.id);
    signals.cancelRequested(run.id);
    await draining;
    const done = await finished(run.id);
    expect(done.status).toBe("cancelled");
    expect(done.costUsd).toBeCloseTo(0.25, 6);
    expect(await db.knex("ledger").where({ run_id: run.id })).toHaveLength(1);
    expect((await sessions.get(run.sessionId))?.runtimeHandle).toEqual({ turn: 1, stopped: true });
    const events = await runs.events(run.id);
    expect(events.some((event) => event.type === "message.delta")).toBe(false);
  });

  it("notices a cancel through the database when no signal reaches it", async () => {
    const agent = await addAgent("cancel-polled");
    runtime.script = untilAborted;
    const engine = startEngine({ leaseMs: 600 });
    const run = await ask(undefined, agent, "a long task");
    const draining = engine.drain({ sessionId: run.sessionId });
    await eventually(async () => expect(runtime.received).toHaveLength(1));
    await runs.requestCancel(run.id); // no signal: another process asked
    await draining;
    expect((await finished(run.id)).status).toBe("cancelled");
  });

  it("picks up a run whose worker died mid-turn, in the same runtime session", async () => {
    const agent = await addAgent("orphaned");
    const run = await ask(undefined, agent, "hello");
    // What a worker killed mid-turn leaves: the run running, its handle stored, its lease lapsed.
    expect(await runs.startAttempt(run.id, 1, "dead-worker")).toBe(true);
    await sessions.setHandle(run.sessionId, { turn: 4 });
    await db
      .knex("sessions")
      .where({ id: run.sessionId })
      .update({
        lease_owner: "dead-worker",
        lease_expires_at: db.knex.raw("now() - interval '1 second'"),
      });
    const engine = startEngine();
    await engine.start(); // its first sweep finds the session
    const done = await finished(run.id);
    expect(done).toMatchObject({ status: "succeeded", attempt: 2, output: "hello (turn 5)" });
    const statuses = (await runs.events(run.id)).filter((event) => event.type === "run.status");
    expect(statuses.map((event) => event.data)).toEqual([
      { status: "queued" },
      { status: "running", attempt: 2, recovered: true },
      { status: "succeeded" },
    ]);
  });

  it("revokes the model proxy key a dead attempt left live when it recovers the run; the new attempt's key works", async () => {
    const agent = await addAgent("proxied-orphan");
    const run = await ask(undefined, agent, "hello");
    // The dead worker's attempt: running, its proxy key issued and never revoked.
    expect(await runs.startAttempt(run.id, 1, "dead-worker")).toBe(true);
    const dead = await issueProxyKey(db.knex, { name: `run ${run.id}`, runId: run.id });
    const revokedAt = async (id: string) =>
      (await db.knex("api_keys").select("revoked_at").where({ id }).first())?.revoked_at;
    const keys: RunKeys = {
      issue: async (attemptRun) => {
        const issued = await issueProxyKey(db.knex, { runId: attemptRun.id });
        return {
          access: { baseUrl: "http://proxy.test", apiKey: issued.key },
          revoke: () => revokeProxyKey(db.knex, issued.id),
        };
      },
      revokeLeftOver: (runId) => revokeRunKeys(db.knex, runId),
    };
    const during: { deadRevoked: boolean; ownLive: boolean }[] = [];
    runtime.script = async function* (request) {
      const own = await db
        .knex("api_keys")
        .where({ run_id: run.id })
        .whereNot({ id: dead.id })
        .select("revoked_at");
      during.push({
        deadRevoked: Boolean(await revokedAt(dead.id)),
        ownLive: own[0]?.revoked_at === null,
      });
      yield* echo()(request);
    };
    const engine = startEngine({ runKeys: keys });
    await engine.drain({ sessionId: run.sessionId });
    expect(await finished(run.id)).toMatchObject({ status: "succeeded", attempt: 2 });
    expect(during).toEqual([{ deadRevoked: true, ownLive: true }]);
  });

  it("leaves a session alone while another worker's lease on it is live", async () => {
    const agent = await addAgent("held");
    const run = await ask(undefined, agent, "hello");
    await db
      .knex("sessions")
      .where({ id: run.sessionId })
      .update({
        lease_owner: "busy-worker",
        lease_expires_at: db.knex.raw("now() + interval '1 minute'"),
      });
    const engine = startEngine();
    await engine.drain({ sessionId: run.sessionId });
    expect(await engine.sweep(0)).toBe(0);
    expect((await runs.get(run.id))?.status).toBe("queued");
    expect(runtime.received).toHaveLength(0);
  });

  it("recovers a run whose worker died even when the runtime is not to be retried", async () => {
    const agent = await addAgent("no-retries");
    const run = await ask(undefined, agent, "hello");
    expect(await runs.startAttempt(run.id, 1, "dead-worker")).toBe(true);
    const engine = startEngine({ maxAttempts: 1 });
    await engine.drain({ sessionId: run.sessionId });
    expect(await finished(run.id)).toMatchObject({ status: "succeeded", attempt: 2 });
  });

  it("gives up on a run whose worker died on every attempt", async () => {
    const agent = await addAgent("cursed");
    const run = await ask(undefined, agent, "hello");
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await runs.startAttempt(run.id, attempt, `dead-${attempt}`)).toBe(true);
    }
    const engine = startEngine({ maxAttempts: 3 });
    await engine.drain({ sessionId: run.sessionId });
    const done = await finished(run.id);
    expect(done).toMatchObject({ status: "failed", error: { code: "worker_lost" } });
    expect(runtime.received).toHaveLength(0);
  });

  it("fences off a worker that lost the run: its attempt no longer matches", async () => {
    const agent = await addAgent("fenced");
    const run = await ask(undefined, agent, "hello");
    expect(await runs.startAttempt(run.id, 1, "first")).toBe(true);
    expect(await runs.startAttempt(run.id, 2, "second")).toBe(true);
    // The first worker wakes up and tries to close its attempt.
    const written = await runs.finish(run.id, 1, {
      status: "succeeded",
      output: "late",
      events: [],
      ledger: [],
    });
    expect(written).toBe(false);
    expect((await runs.get(run.id))?.output).toBeNull();
    // The second worker's attempt is the run's: it closes it.
    const closing = {
      status: "succeeded" as const,
      output: "on time",
      events: [],
      ledger: [],
    };
    expect(await runs.finish(run.id, 2, closing)).toBe(true);
  });

  it("runs a run whose queue message was lost, found by the sweeper", async () => {
    const agent = await addAgent("lost-job");
    const run = await ask(undefined, agent, "hello"); // stored, never queued
    const engine = startEngine();
    await engine.start();
    expect((await finished(run.id)).status).toBe("succeeded");
  });

  it("returns the same run for a repeated idempotency key, and refuses the key for another request", async () => {
    const agent = await addAgent("idempotent");
    const first = await ask(undefined, agent, "hello", randomUUID(), "key-1");
    const again = await runs.create({
      agent: { id: agent.id, runtime: "scripted" },
      userId,
      input: "hello",
      conversation: { surface: "api", conversationKey: randomUUID() },
      idempotencyKey: "key-1",
    });
    expect(again.created).toBe(false);
    expect(again.run.id).toBe(first.id);
    await expect(
      runs.create({
        agent: { id: agent.id, runtime: "scripted" },
        userId,
        input: "something else",
        conversation: { surface: "api", conversationKey: randomUUID() },
        idempotencyKey: "key-1",
      }),
    ).rejects.toMatchObject({ status: 409 });
    const count = await db.knex("runs").where({ idempotency_key: "key-1" }).count({ n: "*" });
    expect(Number(count[0]?.n)).toBe(1);
  });

  it("starts one run when the same idempotency key arrives twice at once", async () => {
    const agent = await addAgent("racing");
    const request = () =>
      runs.create({
        agent: { id: agent.id, runtime: "scripted" },
        userId,
        input: "hello",
        conversation: { surface: "slack", conversationKey: "T1:C1:1700000000.0001" },
        idempotencyKey: "slack:Ev123",
      });
    const results = await Promise.all([request(), request(), request()]);
    expect(new Set(results.map((result) => result.run.id)).size).toBe(1);
    expect(results.filter((result) => result.created)).toHaveLength(1);
  });

  it("hands each attempt a model proxy key of its own, revoked when the attempt ends", async () => {
    const agent = await addAgent("proxied", { maxCostUsdPerRun: 0.25 });
    const issued: { runId: string; budget: number | undefined; revoked: boolean }[] = [];
    const runKeys: RunKeys = {
      issue: async (run, runnable) => {
        const entry = { runId: run.id, budget: runnable.maxCostUsdPerRun, revoked: false };
        issued.push(entry);
        return {
          access: { baseUrl: "http://proxy.test", apiKey: `sk-run-${issued.length}` },
          revoke: async () => {
            entry.revoked = true;
          },
        };
      },
      revokeLeftOver: async () => 0,
    };
    let calls = 0;
    runtime.script = async function* (request) {
      calls += 1;
      if (calls === 1) throw new RuntimeError("runtime_unavailable", "busy", { retryable: true });
      yield* echo()(request);
    };
    const engine = startEngine({ runKeys });
    const run = await ask(engine, agent, "hello");
    expect((await finished(run.id)).status).toBe("succeeded");
    expect(runtime.received.map((turn) => turn.modelProxy?.apiKey)).toEqual([
      "sk-run-1",
      "sk-run-2",
    ]);
    expect(issued).toEqual([
      { runId: run.id, budget: 0.25, revoked: true },
      { runId: run.id, budget: 0.25, revoked: true },
    ]);
  });

  it("tries again later when the model proxy cannot issue a key", async () => {
    const agent = await addAgent("proxy-down");
    let attempts = 0;
    const runKeys: RunKeys = {
      issue: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error("connect ECONNREFUSED");
        return {
          access: { baseUrl: "http://proxy.test", apiKey: "sk-run" },
          revoke: async () => {},
        };
      },
      revokeLeftOver: async () => 0,
    };
    const engine = startEngine({ runKeys });
    const run = await ask(engine, agent, "hello");
    const done = await finished(run.id);
    expect(done).toMatchObject({ status: "succeeded", attempt: 2 });
    const failed = (await runs.events(run.id)).find((event) => event.type === "attempt.failed");
    expect(failed?.data.code).toBe("model_proxy_unavailable");
  });

  it("books usage in the ledger once and puts the cost on the run", async () => {
    const agent = await addAgent("costly");
    runtime.script = async function* (request) {
      yield* echo()(request);
      yield {
        type: "usage",
        usage: {
          model: "claude-sonnet-4-5",
          inputTokens: 1200,
          outputTokens: 300,
          costUsd: 0.0081,
        },
      };
    };
    const engine = startEngine();
    const run = await ask(engine, agent, "hello");
    const done = await finished(run.id);
    expect(done.costUsd).toBeCloseTo(0.0081, 6);
    const ledger = await db.knex("ledger").where({ run_id: run.id });
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      source: "runtime",
      runtime: "scripted",
      model: "claude-sonnet-4-5",
      user_id: userId,
    });
    expect(Number(ledger[0]?.input_tokens)).toBe(1200);
  });

  it("drains through BullMQ with two workers: every run once, in order within its session", async () => {
    const prefix = `sb-test-${randomUUID().slice(0, 8)}`;
    const redisUrl = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
    const agent = await addAgent("queued-on-redis");
    runtime.script = echo(5);
    const queue = () =>
      new BullMqQueue({ redisUrl, prefix, logger: fixture.logger, retryStrategy: () => 100 });
    const producer = queue();
    const workers = [startEngine({ queue: queue() }), startEngine({ queue: queue() })];
    await Promise.all(workers.map((worker) => worker.start()));
    try {
      const conversations = Array.from({ length: 6 }, () => randomUUID());
      const asked: Run[] = [];
      for (let turn = 1; turn <= 5; turn++) {
        for (const conversation of conversations) {
          const { run } = await runs.create({
            agent: { id: agent.id, runtime: "scripted" },
            userId,
            input: `turn ${turn}`,
            conversation: { surface: "api", conversationKey: conversation },
          });
          await producer.enqueue({ sessionId: run.sessionId, runId: run.id }, `run-${run.id}`);
          asked.push(run);
        }
      }
      const done = await Promise.all(asked.map((run) => finished(run.id)));
      expect(done.every((run) => run.status === "succeeded" && run.attempt === 1)).toBe(true);
      for (const run of done) {
        const turn = run.input.split(" ")[1];
        expect(run.output).toBe(`${run.input} (turn ${turn})`);
      }
      // Only this test's agent: runs other tests left for the sweeper may also pass through.
      const ours = runtime.received.filter((turn) => turn.agent.name === "queued-on-redis");
      expect(ours).toHaveLength(asked.length);
    } finally {
      await producer.close();
    }
  });
});
