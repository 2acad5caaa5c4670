import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineFixture } from "../testing/engine-fixture.js";

/**
 * Closing a session: refused while a run of it has not finished; once closed, its runtime
 * handle is forgotten, so the next turn in it opens it again and its runtime starts afresh.
 */
describe("closing a session", () => {
  let fixture: EngineFixture;

  beforeAll(async () => {
    fixture = await EngineFixture.open("session_close");
  });
  afterAll(() => fixture.close());

  it("waits for unfinished runs, then forgets the runtime's session until the next turn", async () => {
    const agent = await fixture.addAgent("closer");
    const conversation = randomUUID();
    const queued = await fixture.ask(undefined, agent, "first", conversation);
    expect(await fixture.sessions.close(queued.sessionId)).toEqual({ unfinishedRun: queued.id });
    expect((await fixture.sessions.get(queued.sessionId))?.status).toBe("active");

    const engine = fixture.startEngine();
    await engine.drain({ sessionId: queued.sessionId, runId: queued.id });
    expect((await fixture.finished(queued.id)).output).toBe("first (turn 1)");
    const second = await fixture.ask(engine, agent, "second", conversation);
    expect((await fixture.finished(second.id)).output).toBe("second (turn 2)");

    const closed = await fixture.sessions.close(queued.sessionId);
    // The session as it was: its handle is what the runtime is told to close.
    expect(closed).toMatchObject({ closed: { status: "active", runtimeHandle: { turn: 2 } } });
    expect(await fixture.sessions.get(queued.sessionId)).toMatchObject({
      status: "closed",
      runtimeHandle: null,
    });

    const third = await fixture.ask(engine, agent, "third", conversation);
    expect(third.sessionId).toBe(queued.sessionId);
    expect((await fixture.finished(third.id)).output).toBe("third (turn 1)");
    expect((await fixture.sessions.get(queued.sessionId))?.status).toBe("active");
  });

  it("answers nothing for a session that does not exist", async () => {
    expect(await fixture.sessions.close(randomUUID())).toBeUndefined();
  });
});
