import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { HeldTurns } from "../../test/support/held-turns.js";
import { BullMqQueue } from "../queue/bullmq-queue.js";
import { InProcessQueue } from "../queue/in-process-queue.js";
import type { RunQueue } from "../queue/run-queue.js";
import type { Run } from "../records.js";
import { EngineFixture, type Script } from "../testing/engine-fixture.js";
import type { RunnableAgent } from "./agent-source.js";
import type { RunEngine } from "./run-engine.js";

/**
 * Runs in progress per person and per agent (RUN_MAX_PER_USER, RUN_MAX_PER_AGENT): a run
 * beyond a limit waits without holding a worker, is told why, and starts when a place
 * frees, the person with the fewest runs in progress first.
 */

/** Turns of the scripted runtime that hold until the test releases them. */
function heldScript(held: HeldTurns): Script {
  return async function* (request) {
    await held.hold(request.input, request.signal);
    yield { type: "message_delta", text: `done ${request.input}` };
  };
}

describe("run limits per person and per agent", () => {
  let fixture: EngineFixture;
  let held: HeldTurns;
  const people = new Map<string, string>();

  beforeAll(async () => {
    fixture = await EngineFixture.open("run_limits");
    people.set("ada", fixture.userId);
    for (const name of ["bob", "cyd"]) {
      people.set(name, await fixture.addUser(`${name}@example.com`));
    }
  });
  afterAll(() => fixture.close());
  beforeEach(() => {
    fixture.runtime.reset();
    held = new HeldTurns();
    fixture.runtime.script = heldScript(held);
  });
  afterEach(async () => {
    held.releaseAll();
    await fixture.stopEngines();
  });

  /** Asks for a run as `<person>-<n>`, in a new session; drained at once with `engine`. */
  function askAs(engine: RunEngine | undefined, agent: RunnableAgent, input: string) {
    const person = people.get(input.split("-")[0] as string);
    return fixture.ask(engine, agent, input, randomUUID(), undefined, person);
  }

  /** Asks for a run as `<person>-<n>` in a new session, queued the way the runs service does. */
  async function submit(queue: RunQueue, agent: RunnableAgent, input: string): Promise<Run> {
    const run = await askAs(undefined, agent, input);
    await queue.enqueue({ sessionId: run.sessionId, runId: run.id }, `run-${run.id}`);
    return run;
  }

  async function lastEvent(run: Run) {
    return (await fixture.runs.events(run.id)).at(-1);
  }

  async function statuses(run: Run): Promise<unknown[]> {
    return (await fixture.runs.events(run.id))
      .filter((event) => event.type === "run.status")
      .map((event) => event.data.status);
  }

  it("holds a person's runs beyond their limit without taking a worker: another person's run starts meanwhile", async () => {
    const agent = await fixture.addAgent("popular");
    const queue = new InProcessQueue();
    // Three slots; Ada asks for four runs first, then Bob for one.
    await fixture
      .startEngine({ queue, concurrency: 3, limits: { perUser: 2, perAgent: 100 } })
      .start();
    const ada: Run[] = [];
    for (let i = 1; i <= 4; i++) ada.push(await submit(queue, agent, `ada-${i}`));
    const bob = await submit(queue, agent, "bob-1");

    await eventually(async () =>
      expect([...held.started].sort()).toEqual(["ada-1", "ada-2", "bob-1"]),
    );
    for (const run of ada.slice(2)) {
      await eventually(async () =>
        expect(await lastEvent(run)).toMatchObject({
          type: "run.status",
          data: {
            status: "waiting",
            reason: "person_limit",
            message:
              "You have 2 runs in progress, as many as one person may have at once; this one starts when one of them finishes.",
          },
        }),
      );
      expect((await fixture.runs.get(run.id))?.status).toBe("queued");
    }

    // One of Ada's finishes: her oldest waiting run takes its place, and only that one.
    held.release("bob-1", "ada-1");
    await eventually(async () => expect(held.started).toContain("ada-3"));
    expect(held.started).not.toContain("ada-4");

    held.release("ada-2", "ada-3", "ada-4");
    const done = await Promise.all([...ada, bob].map((run) => fixture.finished(run.id)));
    expect(done.map((run) => run.status)).toEqual(done.map(() => "succeeded"));
    expect(held.most.get("ada")).toBe(2);
    expect(await statuses(ada[3] as Run)).toEqual(["queued", "waiting", "running", "succeeded"]);
    expect(await statuses(bob)).toEqual(["queued", "running", "succeeded"]);
  });

  it("gives a freed place of a busy agent to the person with the fewest runs in progress", async () => {
    const agent = await fixture.addAgent("busy");
    const queue = new InProcessQueue();
    await fixture
      .startEngine({ queue, concurrency: 10, limits: { perUser: 100, perAgent: 2 } })
      .start();
    const ada = [await submit(queue, agent, "ada-1"), await submit(queue, agent, "ada-2")];
    await eventually(async () => expect(held.started).toHaveLength(2));
    // Ada's third run waits first, then Bob's.
    ada.push(await submit(queue, agent, "ada-3"));
    await eventually(async () =>
      expect((await lastEvent(ada[2] as Run))?.data.status).toBe("waiting"),
    );
    const bob = await submit(queue, agent, "bob-1");
    await eventually(async () =>
      expect(await lastEvent(bob)).toMatchObject({
        data: {
          status: "waiting",
          reason: "agent_limit",
          message:
            '"busy" has 2 runs in progress, as many as it may have at once; this one starts when one of them finishes.',
        },
      }),
    );

    held.release("ada-1");
    await eventually(async () => expect(held.started).toContain("bob-1"));
    expect(held.started).not.toContain("ada-3");

    held.release("ada-2");
    await eventually(async () => expect(held.started).toContain("ada-3"));
    held.release("ada-3", "bob-1");
    for (const run of [...ada, bob])
      expect((await fixture.finished(run.id)).status).toBe("succeeded");
    expect(held.most.get("*")).toBe(2);
  });

  it("does not let a new run take a place someone is already waiting for", async () => {
    const agent = await fixture.addAgent("contested");
    // Not started: no sweeper, and the jobs it queues wait until a test drains by hand.
    const queue = new InProcessQueue();
    const engine = fixture.startEngine({ queue, limits: { perUser: 100, perAgent: 1 } });
    held.release("bob-1", "cyd-1");
    const bob = await askAs(undefined, agent, "bob-1");
    // Bob's run waited while the agent was busy; the place has just freed.
    await fixture.db
      .knex("runs")
      .where({ id: bob.id })
      .update({
        waiting_since: fixture.db.knex.raw("now()"),
        waiting_reason: "agent_limit",
      });
    const cyd = await askAs(engine, agent, "cyd-1");
    expect(await lastEvent(cyd)).toMatchObject({
      data: {
        status: "waiting",
        reason: "others_first",
        message:
          'Other people are waiting for "contested" too and go first; this one starts after them.',
      },
    });
    expect(held.started).toEqual([]);

    await engine.drain({ sessionId: bob.sessionId });
    await engine.drain({ sessionId: cyd.sessionId });
    expect(held.started).toEqual(["bob-1", "cyd-1"]);
    expect((await fixture.finished(cyd.id)).status).toBe("succeeded");
  });

  it("sweeps a waiting run once it fits (after a restart, or a wake-up lost), and leaves it alone before", async () => {
    const agent = await fixture.addAgent("swept");
    const engine = fixture.startEngine({ limits: { perUser: 1, perAgent: 100 } });
    held.release("bob-1", "bob-2");
    const first = await askAs(undefined, agent, "bob-1");
    const second = await askAs(undefined, agent, "bob-2");
    // Bob's first run is in progress on another worker, which holds its session.
    expect(await fixture.runs.startAttempt(first.id, 1, "other-worker")).toBe(true);
    await fixture.db
      .knex("sessions")
      .where({ id: first.sessionId })
      .update({
        lease_owner: "other-worker",
        lease_expires_at: fixture.db.knex.raw("now() + interval '1 minute'"),
      });
    await engine.drain({ sessionId: second.sessionId });
    expect((await lastEvent(second))?.data.reason).toBe("person_limit");
    expect(await engine.sweep(0)).toBe(0);

    await fixture.db.knex("runs").where({ id: first.id }).update({ status: "succeeded" });
    expect(await engine.sweep(0)).toBe(1);
    await engine.start();
    expect((await fixture.finished(second.id)).status).toBe("succeeded");
  });

  it("holds the limits across two workers on BullMQ, and finishes every run that waited", async () => {
    const prefix = `sb-test-${randomUUID().slice(0, 8)}`;
    const redisUrl = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
    const agent = await fixture.addAgent("shared");
    held = new HeldTurns(30);
    held.releaseAll();
    fixture.runtime.script = heldScript(held);
    const limits = { perUser: 2, perAgent: 3 };
    const producer = new BullMqQueue({
      redisUrl,
      prefix,
      logger: fixture.logger,
      retryStrategy: () => 100,
    });
    const workers = [1, 2].map(() =>
      fixture.startEngine({
        queue: new BullMqQueue({
          redisUrl,
          prefix,
          logger: fixture.logger,
          retryStrategy: () => 100,
        }),
        concurrency: 5,
        limits,
      }),
    );
    await Promise.all(workers.map((worker) => worker.start()));
    try {
      const inputs = [
        ...Array.from({ length: 8 }, (_, i) => `ada-${i + 1}`),
        ...Array.from({ length: 4 }, (_, i) => `bob-${i + 1}`),
        ...Array.from({ length: 2 }, (_, i) => `cyd-${i + 1}`),
      ];
      const asked: Run[] = [];
      for (const input of inputs) asked.push(await submit(producer, agent, input));
      const done = await Promise.all(asked.map((run) => fixture.finished(run.id, 60_000)));
      expect(done.map((run) => run.status)).toEqual(done.map(() => "succeeded"));
      expect(held.started).toHaveLength(inputs.length);
      for (const person of ["ada", "bob", "cyd"]) {
        expect(held.most.get(person)).toBeLessThanOrEqual(limits.perUser);
      }
      expect(held.most.get("*")).toBeLessThanOrEqual(limits.perAgent);
      const waited = await Promise.all(asked.map((run) => statuses(run)));
      expect(waited.filter((list) => list.includes("waiting")).length).toBeGreaterThan(0);
    } finally {
      await producer.close();
    }
  });
});
