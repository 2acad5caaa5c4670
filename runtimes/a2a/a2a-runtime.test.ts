import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { A2aAgentDouble, type A2aAgentOptions } from "../../test/doubles/a2a-agent.js";
import { collectTurn } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import { isRuntimeError, RUNTIME_ERROR_CODES, type RuntimeError } from "../runtime-error.js";
import { A2aRuntime, CARD_TTL_MS, cardUrlFor } from "./index.js";

const TOKEN = "Bearer secret-a2a-token";
const env = { A2A_TEST_TOKEN: TOKEN };

/** One double per protocol/streaming shape, shared by the tests that use it. */
const doubles = new Map<string, A2aAgentDouble>();
async function agent(options: A2aAgentOptions): Promise<A2aAgentDouble> {
  const key = JSON.stringify(options);
  let double = doubles.get(key);
  if (!double) {
    double = await A2aAgentDouble.start(options);
    doubles.set(key, double);
  }
  return double;
}

const settingsFor = (double: A2aAgentDouble, extra: Record<string, unknown> = {}) => ({
  type: "a2a",
  url: double.url,
  headers: { Authorization: { env: "A2A_TEST_TOKEN" } },
  ...extra,
});

const run = (
  runtime: A2aRuntime,
  settings: Record<string, unknown>,
  input: string,
  extra: Partial<Parameters<typeof collectTurn>[2]> = {},
) => collectTurn(runtime, settings, { sessionId: randomUUID(), input, env, ...extra });

const asRuntimeError = (error: unknown): RuntimeError => {
  expect(isRuntimeError(error), `expected a RuntimeError, got ${String(error)}`).toBe(true);
  return error as RuntimeError;
};

const v1Streaming = { protocol: "1.0", streaming: true, authorization: TOKEN } as const;
const v1Plain = { protocol: "1.0", streaming: false, authorization: TOKEN } as const;
const v03Streaming = { protocol: "0.3", streaming: true, authorization: TOKEN } as const;
const v03Plain = { protocol: "0.3", streaming: false, authorization: TOKEN } as const;

let runtime: A2aRuntime;
beforeAll(() => {
  runtime = new A2aRuntime({ egress: loopbackEgress, pollIntervalMs: 10 });
});
afterEach(() => {
  for (const double of doubles.values()) {
    const unexpected = [...double.unexpected()];
    double.reset();
    expect(unexpected, "requests the double did not expect").toEqual([]);
  }
});
afterAll(async () => {
  await runtime.close();
  await Promise.all([...doubles.values()].map((double) => double.close()));
});

describe("a2a settings", () => {
  const parse = (value: Record<string, unknown>) => runtime.settings.safeParse(value);

  it("accepts a bare URL and the optional overrides", () => {
    expect(parse({ type: "a2a", url: "https://agent.example.com" }).success).toBe(true);
    expect(
      parse({
        type: "a2a",
        url: "https://agent.example.com/.well-known/agent-card.json",
        protocol: "0.3",
        streaming: false,
        headers: { Authorization: { env: "TOKEN" }, "X-Api-Key": { secret: "KEY" } },
      }).success,
    ).toBe(true);
  });

  it("refuses a header written as its value, saying to use a reference", () => {
    const parsed = parse({
      type: "a2a",
      url: "https://agent.example.com",
      headers: { Authorization: "Bearer sk-live" },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/secret reference.*\{ env: NAME \}/);
    expect(JSON.stringify(parsed.error?.issues)).not.toContain("sk-live");
  });

  it("refuses a URL without a scheme, an unknown protocol and unknown keys", () => {
    const url = parse({ type: "a2a", url: "agent.example.com" });
    expect(url.error?.issues[0]?.message).toMatch(/http:\/\/ or https:\/\/ URL/);
    const protocol = parse({ type: "a2a", url: "https://a.example", protocol: "2.0" });
    expect(protocol.error?.issues[0]?.message).toMatch(/"1\.0" or "0\.3"/);
    expect(parse({ type: "a2a", url: "https://a.example", timeout: 3 }).success).toBe(false);
  });

  it("finds the card under the base URL, or takes a card URL as given", () => {
    expect(cardUrlFor("https://a.example")).toBe("https://a.example/.well-known/agent-card.json");
    expect(cardUrlFor("https://a.example/agents/hr")).toBe(
      "https://a.example/agents/hr/.well-known/agent-card.json",
    );
    expect(cardUrlFor("https://a.example/cards/hr.json")).toBe("https://a.example/cards/hr.json");
  });
});

describe("a2a turns", () => {
  it("streams a 1.0 answer: handle first, working status, deltas, then the whole answer", async () => {
    const double = await agent(v1Streaming);
    const outcome = await run(runtime, settingsFor(double), "hello");
    expect(outcome.error).toBeUndefined();
    const types = outcome.events.map((event) => event.type);
    expect(types[0]).toBe("handle");
    expect(outcome.events).toContainEqual({ type: "status", status: "working" });
    expect(types.filter((type) => type === "message_delta").length).toBeGreaterThan(1);
    expect(types.at(-1)).toBe("message");
    expect(outcome.text).toBe('You said "hello" (turn 1)');
    expect(outcome.handle).toEqual({
      contextId: double.turns()[0]?.runtimeSession,
      cardUrl: double.cardUrl,
    });
    expect(double.calls.map((call) => call.method)).toEqual(["SendStreamingMessage"]);
  });

  it("sends the Authorization header from the environment with every call", async () => {
    const double = await agent(v03Plain);
    const outcome = await run(runtime, settingsFor(double), "who am I?");
    expect(outcome.error).toBeUndefined();
    expect(double.calls.length).toBeGreaterThan(0);
    for (const call of double.calls) expect(call.headers.authorization).toBe(TOKEN);
  });

  it("speaks 0.3 to a 0.3 card without streaming: message/send, then tasks/get until done", async () => {
    const double = await agent(v03Plain);
    double.holdTurns();
    const pending = run(runtime, settingsFor(double), "slowly");
    await eventually(async () => expect(double.calls.length).toBeGreaterThan(2));
    double.releaseTurns();
    const outcome = await pending;
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('You said "slowly" (turn 1)');
    const methods = double.calls.map((call) => call.method);
    expect(methods[0]).toBe("message/send");
    expect(new Set(methods.slice(1))).toEqual(new Set(["tasks/get"]));
    expect(double.calls[0]?.params.configuration.blocking).toBe(false);
    expect(double.calls[0]?.params.message).toMatchObject({ kind: "message", role: "user" });
  });

  it("streams from a 0.3 agent too, over message/stream", async () => {
    const double = await agent(v03Streaming);
    const outcome = await run(runtime, settingsFor(double), "stream me");
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('You said "stream me" (turn 1)');
    expect(outcome.events.filter((event) => event.type === "message_delta").length).toBe(3);
    expect(double.calls.map((call) => call.method)).toEqual(["message/stream"]);
  });

  it("does not stream when the card says the agent cannot, or when the settings say not to", async () => {
    const plain = await agent(v1Plain);
    const first = await run(runtime, settingsFor(plain), "no stream");
    expect(first.error).toBeUndefined();
    expect(first.events.some((event) => event.type === "message_delta")).toBe(false);
    expect(plain.calls[0]?.method).toBe("SendMessage");
    expect(plain.calls[0]?.params.configuration.returnImmediately).toBe(true);

    const streaming = await agent(v1Streaming);
    const second = await run(runtime, settingsFor(streaming, { streaming: false }), "still no");
    expect(second.error).toBeUndefined();
    expect(second.text).toBe('You said "still no" (turn 1)');
    expect(streaming.calls[0]?.method).toBe("SendMessage");
  });

  it("ends the turn with the agent's question when it needs more input", async () => {
    const double = await agent(v1Streaming);
    double.answerNextWith({ state: "input-required", text: "Which city do you mean?" });
    const outcome = await run(runtime, settingsFor(double), "book a flight");
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe("Which city do you mean?");
    expect(outcome.events).toContainEqual({
      type: "status",
      status: "input-required",
      message: "Which city do you mean?",
    });
    // The answer continues the same context.
    const next = await run(runtime, settingsFor(double), "Paris", { handle: outcome.handle });
    expect(next.text).toBe('You said "Paris" (turn 2)');
  });

  it("takes a direct Message reply (no task) as the answer and keeps its context", async () => {
    for (const options of [v1Streaming, v03Plain]) {
      const double = await agent(options);
      double.answerNextWith({ state: "message", text: "Hi there." });
      const outcome = await run(runtime, settingsFor(double), "hi");
      expect(outcome.error).toBeUndefined();
      expect(outcome.text).toBe("Hi there.");
      expect(outcome.events[0]?.type).toBe("handle");
      const next = await run(runtime, settingsFor(double), "again", { handle: outcome.handle });
      expect(next.text).toBe('You said "again" (turn 2)');
    }
  });

  it("fails without retry, in the agent's words, when its task fails or is rejected", async () => {
    for (const options of [v1Streaming, v03Plain]) {
      const double = await agent(options);
      double.answerNextWith({ state: "failed", text: "The calendar service is down." });
      const failed = asRuntimeError((await run(runtime, settingsFor(double), "plan")).error);
      expect(failed.retryable).toBe(false);
      expect(failed.code).toBe(RUNTIME_ERROR_CODES.agentFailed);
      expect(failed.message).toContain("The calendar service is down.");

      double.answerNextWith({ state: "rejected", text: "I only do calendars." });
      const rejected = asRuntimeError((await run(runtime, settingsFor(double), "poem")).error);
      expect(rejected.retryable).toBe(false);
      expect(rejected.message).toMatch(/declined the request: I only do calendars\./);
    }
  });

  it("keeps a failed task's reason short and on one line, however long the agent made it", async () => {
    const double = await agent(v1Streaming);
    double.answerNextWith({ state: "failed", text: `Stack:\n${"at frame ".repeat(10_000)}` });
    const failed = asRuntimeError((await run(runtime, settingsFor(double), "plan")).error);
    expect(failed.message).toMatch(/could not finish the task: Stack: at frame at frame/);
    expect(failed.message.length).toBeLessThan(300);
    expect(failed.message).not.toContain("\n");
  });

  it("cancels the running task with tasks/cancel when the run is cancelled, streamed or not", async () => {
    for (const [options, cancelMethod] of [
      [v1Streaming, "CancelTask"],
      [v03Plain, "tasks/cancel"],
    ] as const) {
      const double = await agent(options);
      double.holdTurns();
      const controller = new AbortController();
      let handled = false;
      const pending = run(runtime, settingsFor(double), "long job", {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === "handle") handled = true;
        },
      });
      await eventually(async () => expect(handled).toBe(true));
      controller.abort();
      const outcome = await pending;
      expect(outcome.error).toBeUndefined();
      expect(outcome.events.some((event) => event.type === "message")).toBe(false);
      expect(double.cancellations()).toBe(1);
      expect(double.calls.at(-1)?.method).toBe(cancelMethod);
      expect(double.calls.at(-1)?.headers.authorization).toBe(TOKEN);
    }
  });
});

describe("a2a agent cards", () => {
  it("fetches the card once for many turns and again after it expires", async () => {
    const double = await agent(v1Plain);
    const fresh = new A2aRuntime({ egress: loopbackEgress, pollIntervalMs: 10 });
    try {
      vi.useFakeTimers({ toFake: ["Date"] });
      await run(fresh, settingsFor(double), "one");
      await run(fresh, settingsFor(double), "two");
      expect(double.cardFetches).toBe(1);
      vi.setSystemTime(Date.now() + CARD_TTL_MS + 1_000);
      await run(fresh, settingsFor(double), "three");
      expect(double.cardFetches).toBe(2);
    } finally {
      vi.useRealTimers();
      await fresh.close();
    }
  });

  it("accepts the card's own URL as the agent's url", async () => {
    const double = await agent(v1Streaming);
    const outcome = await run(runtime, settingsFor(double, { url: double.cardUrl }), "direct");
    expect(outcome.error).toBeUndefined();
    expect(outcome.handle?.cardUrl).toBe(double.cardUrl);
  });

  it("says clearly when there is no agent card at the URL, without retrying", async () => {
    const double = await agent(v1Streaming);
    const outcome = await run(runtime, settingsFor(double, { url: `${double.url}/nowhere` }), "hi");
    const error = asRuntimeError(outcome.error);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`${double.url}/nowhere/.well-known/agent-card.json`);
    expect(error.message).toMatch(/agent card.*HTTP 404.*check the url setting/);
    expect([...double.unexpected()]).toEqual(["GET /nowhere/.well-known/agent-card.json"]);
    double.reset();
  });

  it("says when the document at the URL is not an agent card", async () => {
    const stub: typeof fetch = async () =>
      new Response(JSON.stringify({ hello: "world" }), {
        headers: { "content-type": "application/json" },
      });
    const odd = new A2aRuntime({ egress: loopbackEgress, fetch: stub });
    const outcome = await run(odd, { type: "a2a", url: "http://127.0.0.1:1/card.json" }, "hi");
    const error = asRuntimeError(outcome.error);
    expect(error.code).toBe(RUNTIME_ERROR_CODES.badResponse);
    expect(error.message).toMatch(/is not an A2A agent card/);
  });

  it("returns promptly when the run is cancelled while the card is still being fetched", async () => {
    const stalled: typeof fetch = () => new Promise<Response>(() => {});
    const slow = new A2aRuntime({ egress: loopbackEgress, fetch: stalled });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const outcome = await run(slow, { type: "a2a", url: "http://127.0.0.1:1" }, "hi", {
      signal: controller.signal,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(outcome.error).toBeUndefined();
    expect(outcome.events).toEqual([]);
  });

  it("refuses a protocol the card does not offer, naming what it offers", async () => {
    const double = await agent(v1Streaming);
    const outcome = await run(runtime, settingsFor(double, { protocol: "0.3" }), "hi");
    const error = asRuntimeError(outcome.error);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/speaks A2A 1\.0, not 0\.3/);
  });
});

describe("a2a failures", () => {
  it("refuses wrong credentials without retrying and without showing them", async () => {
    const double = await agent(v1Streaming);
    const outcome = await run(runtime, settingsFor(double), "hi", {
      env: { A2A_TEST_TOKEN: "Bearer secret-wrong" },
    });
    const error = asRuntimeError(outcome.error);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/HTTP 401.*check the headers/);
    expect(error.message).not.toMatch(/secret-/);
  });

  it("says which environment variable is missing before calling the agent", async () => {
    const double = await agent(v1Streaming);
    const outcome = await collectTurn(runtime, settingsFor(double), {
      sessionId: randomUUID(),
      input: "hi",
      env: { A2A_TEST_TOKEN: "" },
    });
    const error = asRuntimeError(outcome.error);
    expect(error.code).toBe(RUNTIME_ERROR_CODES.missingSecret);
    expect(error.message).toContain("A2A_TEST_TOKEN");
    expect(double.calls).toEqual([]);
  });

  it("tells a 4xx refusal (not retried) from a 5xx (retried) and from unreadable answers", async () => {
    const double = await agent(v1Plain);
    let reply: (() => Response) | undefined;
    const stub: typeof fetch = async (input, init) => {
      if (reply && init?.method === "POST") return reply();
      return fetch(input, init);
    };
    const picky = new A2aRuntime({ egress: loopbackEgress, fetch: stub, pollIntervalMs: 10 });
    try {
      reply = () => new Response("Bad request", { status: 400 });
      const refused = asRuntimeError((await run(picky, settingsFor(double), "a")).error);
      expect(refused).toMatchObject({ retryable: false, code: RUNTIME_ERROR_CODES.rejected });
      expect(refused.message).toMatch(/HTTP 400: Bad request/);

      reply = () => new Response("upstream timeout", { status: 502 });
      const busy = asRuntimeError((await run(picky, settingsFor(double), "b")).error);
      expect(busy).toMatchObject({ retryable: true, code: RUNTIME_ERROR_CODES.unavailable });

      reply = () =>
        new Response("this is not JSON", { headers: { "content-type": "application/json" } });
      const garbled = asRuntimeError((await run(picky, settingsFor(double), "c")).error);
      expect(garbled).toMatchObject({ retryable: false, code: RUNTIME_ERROR_CODES.badResponse });

      reply = () =>
        Response.json({ jsonrpc: "2.0", id: 1, error: { code: -32603, message: "boom" } });
      const internal = asRuntimeError((await run(picky, settingsFor(double), "d")).error);
      expect(internal).toMatchObject({ retryable: true, code: RUNTIME_ERROR_CODES.unavailable });
      expect(internal.message).toContain("boom");
    } finally {
      await picky.close();
    }
  });

  it("treats a connection dropped mid-stream as retryable", async () => {
    const double = await agent(v1Streaming);
    const stub: typeof fetch = async (input, init) => {
      if (init?.method !== "POST") return fetch(input, init);
      const body = new ReadableStream({
        start(controller) {
          controller.error(new TypeError("terminated", { cause: new Error("other side closed") }));
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    };
    const flaky = new A2aRuntime({ egress: loopbackEgress, fetch: stub });
    const outcome = await run(flaky, settingsFor(double), "hello");
    const error = asRuntimeError(outcome.error);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/could not be reached \(other side closed\)/);
  });
});
