import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isRuntimeError } from "../../runtimes/index.js";
import { eventually } from "../support/eventually.js";
import { collectTurn } from "./collect-turn.js";
import type { FixtureFactory, RuntimeFixture } from "./fixture.js";

/**
 * One suite, every adapter: what the runs engine relies on from any runtime. Each adapter
 * talks through its real SDK or client to a local double of its vendor's wire API. Call it
 * from `<adapter>.contract.test.ts` with the adapter's fixture.
 */
export function defineRuntimeContract(name: string, factory: FixtureFactory): void {
  describe(`runtime contract: ${name}`, () => {
    let f: RuntimeFixture;

    beforeAll(async () => {
      f = await factory();
    });
    afterAll(async () => {
      await f?.close();
    });
    afterEach(() => {
      if (!f.double) return;
      const unexpected = f.double.unexpected();
      f.double.releaseTurns();
      f.double.reset();
      expect(unexpected, "requests the double did not expect").toEqual([]);
    });

    const turn = (
      input: string,
      extra: Parameters<typeof collectTurn>[2] extends infer T ? Partial<T> : never = {},
    ) =>
      collectTurn(f.runtime, f.settings, { sessionId: randomUUID(), input, env: f.env, ...extra });

    it("refuses settings that are not valid, saying what is wrong", () => {
      const parsed = f.runtime.settings.safeParse(f.invalidSettings);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/\w{3,}/);
      expect(f.runtime.settings.safeParse(f.settings).success).toBe(true);
    });

    it("answers a turn, yielding its session handle before the answer", async () => {
      const outcome = await turn("What is the capital of France?");
      expect(outcome.error).toBeUndefined();
      expect(outcome.text).toContain("What is the capital of France?");
      const handleAt = outcome.events.findIndex((event) => event.type === "handle");
      const messageAt = outcome.events.findIndex(
        (event) => event.type === "message" || event.type === "message_delta",
      );
      expect(handleAt).toBeGreaterThanOrEqual(0);
      expect(handleAt).toBeLessThan(messageAt);
      if (f.streams) {
        const deltas = outcome.events.filter((event) => event.type === "message_delta");
        expect(deltas.length).toBeGreaterThan(1);
      }
      if (f.reportsUsage) {
        const usage = outcome.events.find((event) => event.type === "usage");
        expect(usage?.type === "usage" && usage.usage.outputTokens).toBeGreaterThan(0);
      }
    });

    it("continues the same runtime session on the second turn, through the handle", async () => {
      const sessionId = randomUUID();
      const first = await turn("first question", { sessionId });
      expect(first.error).toBeUndefined();
      const second = await turn("second question", {
        sessionId,
        handle: first.handle,
        transcript: [
          { role: "user", content: "first question" },
          { role: "agent", content: first.text },
        ],
      });
      expect(second.error).toBeUndefined();
      expect(first.text).toMatch(/turn 1\b/);
      expect(second.text).toMatch(/turn 2\b/);
      expect(second.text).toContain("second question");
      expect(second.text).not.toContain("first question");
      if (f.double) {
        const [a, b] = f.double.turns();
        expect(b?.runtimeSession).toBe(a?.runtimeSession);
      }
    });

    it("opens a new runtime session primed with the transcript when the runtime lost it", async (ctx) => {
      if (!f.double) return ctx.skip();
      const sessionId = randomUUID();
      const first = await turn("remember the number 42", { sessionId });
      expect(first.error).toBeUndefined();
      f.double.forgetSessions();
      const second = await turn("which number was it?", {
        sessionId,
        handle: first.handle,
        transcript: [
          { role: "user", content: "remember the number 42" },
          { role: "agent", content: first.text },
        ],
      });
      expect(second.error).toBeUndefined();
      expect(second.events).toContainEqual(
        expect.objectContaining({ type: "status", status: "session_restarted" }),
      );
      expect(second.handle).not.toEqual(first.handle);
      const received = f.double.turns().at(-1);
      expect(received?.text).toContain("remember the number 42");
      expect(received?.text).toContain("which number was it?");
      expect(second.text).toMatch(/turn 1\b/);
    });

    it("fails a turn the runtime could not take as retryable, and the next try succeeds", async (ctx) => {
      if (!f.double) return ctx.skip();
      f.double.failNextTurns(1);
      const failed = await turn("are you there?");
      expect(isRuntimeError(failed.error)).toBe(true);
      expect(isRuntimeError(failed.error) && failed.error.retryable).toBe(true);
      const retried = await turn("are you there?");
      expect(retried.error).toBeUndefined();
      expect(retried.text).toContain("are you there?");
    });

    it("fails as retryable when the runtime cannot be reached", async (ctx) => {
      if (!f.unreachableSettings) return ctx.skip();
      const outcome = await collectTurn(f.runtime, f.unreachableSettings, {
        sessionId: randomUUID(),
        input: "hello?",
        env: f.env,
      });
      expect(isRuntimeError(outcome.error)).toBe(true);
      expect(isRuntimeError(outcome.error) && outcome.error.retryable).toBe(true);
      expect((outcome.error as Error).message).not.toMatch(/sk-|secret-/);
    });

    it("stops promptly when the run is cancelled, telling the runtime where it can be told", async () => {
      const controller = new AbortController();
      f.double?.holdTurns();
      const started = Date.now();
      let sawWork = false;
      const outcome = turn("a long task", {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === "handle") sawWork = true;
        },
      });
      if (f.double) {
        await eventually(async () => expect(f.double?.turns().length).toBe(1));
      } else {
        await eventually(async () => expect(sawWork).toBe(true));
      }
      controller.abort();
      const done = await outcome;
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(done.events.some((event) => event.type === "message")).toBe(false);
      if (f.double && f.double.cancellations() > 0) {
        expect(f.double.cancellations()).toBe(1);
      }
    });
  });
}
