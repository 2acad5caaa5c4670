import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  type AgentCoreDoubleOptions,
  AgentCoreRuntimeDouble,
} from "../../test/doubles/agentcore-runtime.js";
import { AGENTCORE_ARN } from "../../test/runtime-contract/bedrock-agentcore-fixture.js";
import { collectTurn } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import { RuntimeError } from "../runtime-error.js";
import { allowedEnvironment } from "../secrets.js";
import { BedrockAgentCoreRuntime } from "./index.js";

const CREDENTIALS = {
  accessKeyId: "AKIAUNITDOUBLE000001",
  secretAccessKey: "secret-agentcore-unit-key",
};
const env = {
  AC_KEY_ID: CREDENTIALS.accessKeyId,
  AC_SECRET: CREDENTIALS.secretAccessKey,
  AC_WRONG: "secret-agentcore-wrong-key",
};

function failure(error: unknown): RuntimeError {
  expect(error).toBeInstanceOf(RuntimeError);
  const message = (error as Error).message;
  expect(message).not.toContain(CREDENTIALS.secretAccessKey);
  expect(message).not.toContain(env.AC_WRONG);
  return error as RuntimeError;
}

describe("bedrock-agentcore runtime", () => {
  let clock = Date.now();
  const runtime = new BedrockAgentCoreRuntime({ egress: loopbackEgress, now: () => clock });
  const doubles: AgentCoreRuntimeDouble[] = [];
  afterEach(async () => {
    for (const double of doubles.splice(0)) {
      expect(double.unexpected()).toEqual([]);
      await double.close();
    }
  });
  afterAll(() => runtime.close());

  async function agentCore(
    extra: Record<string, unknown> = {},
    options: Partial<AgentCoreDoubleOptions> = {},
  ) {
    const double = await AgentCoreRuntimeDouble.start({
      agentRuntimeArn: AGENTCORE_ARN,
      region: "eu-west-1",
      credentials: CREDENTIALS,
      mode: "sse",
      ...options,
    });
    doubles.push(double);
    const settings = {
      type: "bedrock-agentcore",
      agent_runtime_arn: AGENTCORE_ARN,
      region: "eu-west-1",
      endpoint: double.url,
      credentials: { access_key_id: { env: "AC_KEY_ID" }, secret_access_key: { env: "AC_SECRET" } },
      usd_per_second: 0.5,
      ...extra,
    };
    const turn = (input: string, more: Partial<Parameters<typeof collectTurn>[2]> = {}) =>
      collectTurn(runtime, settings, { sessionId: randomUUID(), input, env, ...more });
    return { double, settings, turn };
  }

  describe("settings", () => {
    const parse = (extra: Record<string, unknown>) =>
      runtime.settings.safeParse({
        type: "bedrock-agentcore",
        agent_runtime_arn: AGENTCORE_ARN,
        region: "us-east-1",
        usd_per_second: 0.00003,
        ...extra,
      });
    const message = (extra: Record<string, unknown>) => parse(extra).error?.issues[0]?.message;

    it("has defaults for the payload and AgentCore's lifecycle", () => {
      expect(parse({}).data).toMatchObject({
        payload: { prompt: "{{input}}" },
        idle_timeout_seconds: 900,
        max_lifetime_seconds: 28_800,
      });
    });

    it("says what is wrong in words the owner can act on", () => {
      expect(message({ agent_runtime_arn: "support-agent" })).toMatch(
        /agent runtime's ARN, such as arn:aws:bedrock-agentcore/,
      );
      expect(message({ region: "Frankfurt" })).toMatch(/AWS region/);
      expect(message({ payload: { question: "hi" } })).toMatch(/\{\{input\}\}/);
      expect(message({ usd_per_second: undefined })).toMatch(/AgentCore does not report cost/);
      expect(message({ usd_per_second: 0 })).toMatch(/never free/);
      expect(
        message({ credentials: { access_key_id: "AKIA123", secret_access_key: { env: "X" } } }),
      ).toMatch(/secret reference/);
      expect(message({ idle_timeout_seconds: 10 })).toMatch(/at least 60/);
    });
  });

  it("keeps one AgentCore session for the conversation, with the payload the manifest says", async () => {
    const { double, turn } = await agentCore();
    const sessionId = randomUUID();
    const first = await turn("hello", { sessionId });
    expect(first.error).toBeUndefined();
    expect(first.text).toBe('You said "hello" (turn 1)');
    expect(first.events.filter((e) => e.type === "message_delta").length).toBeGreaterThan(1);
    const second = await turn("again", { sessionId, handle: first.handle });
    expect(second.text).toBe('You said "again" (turn 2)');
    const [a, b] = double.received;
    const header = "x-amzn-bedrock-agentcore-runtime-session-id";
    expect(a?.headers[header]).toBe(`switchboard-${sessionId}`);
    expect(String(a?.headers[header]).length).toBeGreaterThanOrEqual(33);
    expect(b?.headers[header]).toBe(a?.headers[header]);
    expect(a?.body).toEqual({ prompt: "hello" });
    expect(second.handle).toMatchObject({ runtimeSessionId: `switchboard-${sessionId}`, turns: 2 });
  });

  describe("runtimeUserId", () => {
    const ADA = "sb-3f1c9a7e0b2d4c6e8f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c0d2e";
    const BOB = "sb-0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d0e2f4a6b8c0d1e3f5a7b9c1d3e5f7a9b";

    it("is sent as the person's opaque id only when the manifest opts in", async () => {
      const { double, turn } = await agentCore(
        { send_runtime_user_id: true },
        { mayInvokeForUser: true },
      );
      const sessionId = randomUUID();
      const first = await turn("hello", { sessionId, personId: ADA });
      expect(first.error).toBeUndefined();
      const second = await turn("again", { sessionId, handle: first.handle, personId: ADA });
      expect(second.text).toBe('You said "again" (turn 2)');
      await turn("hi", { personId: BOB });
      expect(double.userIds).toEqual([ADA, ADA, BOB]);
      const header = "x-amzn-bedrock-agentcore-runtime-user-id";
      expect(double.received[0]?.headers[header]).toBe(ADA);

      // Not opted in (the default): no header, even though the engine knows the person.
      const { double: plain, turn: plainTurn } = await agentCore();
      expect((await plainTurn("hello", { personId: ADA })).error).toBeUndefined();
      expect(plain.userIds).toEqual([undefined]);
      expect(plain.received[0]?.headers[header]).toBeUndefined();
    });

    it("names the extra permission AWS wants when the credentials lack it", async () => {
      const { double, turn } = await agentCore({ send_runtime_user_id: true });
      const refused = failure((await turn("hello", { personId: ADA })).error);
      expect(refused.retryable).toBe(false);
      expect(refused.message).toContain("bedrock-agentcore:InvokeAgentRuntimeForUser");
      expect(refused.message).toContain("send_runtime_user_id");
      expect(double.userIds).toEqual([]);
    });

    it("refuses to run for nobody rather than put every person on one identity", async () => {
      const { double, turn } = await agentCore(
        { send_runtime_user_id: true },
        { mayInvokeForUser: true },
      );
      const refused = failure((await turn("hello")).error);
      expect(refused.retryable).toBe(false);
      expect(refused.message).toMatch(/runtimeUserId.*without a person/);
      expect(double.received).toHaveLength(0);
    });

    it("is a yes or no in the manifest", () => {
      const parsed = runtime.settings.safeParse({
        type: "bedrock-agentcore",
        agent_runtime_arn: AGENTCORE_ARN,
        region: "us-east-1",
        usd_per_second: 0.00003,
        send_runtime_user_id: "yes",
      });
      expect(parsed.error?.issues[0]?.message).toMatch(/true or false.*InvokeAgentRuntimeForUser/);
    });
  });

  it("fills a payload template with the message and the session", async () => {
    const { double, turn } = await agentCore({
      payload: {
        input: { text: "Question: {{input}}" },
        session: "{{session_id}}",
        prompt: "{{input}}",
      },
    });
    const sessionId = randomUUID();
    await turn("what is up?", { sessionId });
    expect(double.received[0]?.body).toEqual({
      input: { text: "Question: what is up?" },
      session: `switchboard-${sessionId}`,
      prompt: "what is up?",
    });
  });

  it("books compute time as an estimated cost, never as zero", async () => {
    const { double, turn } = await agentCore({}, { mode: "json" });
    double.holdTurns();
    const started = clock;
    const pending = turn("take your time");
    await eventually(async () => expect(double.turns()).toHaveLength(1));
    clock += 4_000;
    double.releaseTurns();
    const outcome = await pending;
    clock = started;
    expect(outcome.text).toBe('You said "take your time" (turn 1)');
    expect(outcome.events.at(-1)).toEqual({
      type: "usage",
      usage: {
        model: "agentcore-compute",
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 2,
        costEstimated: true,
      },
    });
  });

  it("opens a new session primed with the transcript after AgentCore's idle timeout", async () => {
    const { double, turn } = await agentCore({ idle_timeout_seconds: 600 });
    const sessionId = randomUUID();
    const first = await turn("remember 42", { sessionId });
    clock += 601_000;
    const second = await turn("which number?", {
      sessionId,
      handle: first.handle,
      transcript: [
        { role: "user", content: "remember 42" },
        { role: "agent", content: first.text },
      ],
    });
    clock -= 601_000;
    expect(second.events).toContainEqual(
      expect.objectContaining({
        status: "session_restarted",
        message: expect.stringMatching(/idle longer than 600 seconds/),
      }),
    );
    const [a, b] = double.turns();
    expect(b?.runtimeSession).not.toBe(a?.runtimeSession);
    expect(b?.runtimeSession.startsWith(`switchboard-${sessionId}-`)).toBe(true);
    expect(b?.text).toContain("remember 42");
    expect(second.text).toMatch(/turn 1\b/);
  });

  it("treats a session past AgentCore's lifetime as gone", async () => {
    const { turn } = await agentCore({ max_lifetime_seconds: 3600 });
    const sessionId = randomUUID();
    let handle = (await turn("one", { sessionId })).handle;
    for (let i = 0; i < 7; i++) {
      clock += 540_000; // 9 minutes: never idle long enough, but past the hour in the end
      const next = await turn("again", { sessionId, handle });
      handle = next.handle;
      if (i < 6) expect(next.events.some((e) => e.type === "status")).toBe(false);
      else
        expect(next.events).toContainEqual(
          expect.objectContaining({ status: "session_restarted" }),
        );
    }
    clock -= 7 * 540_000;
  });

  it("stops the AgentCore session when Switchboard closes its own; a gone one is fine", async () => {
    const { double, settings, turn } = await agentCore();
    const first = await turn("hello");
    const parsed = runtime.settings.parse(settings);
    const secrets = allowedEnvironment(env, Object.keys(env));
    await runtime.closeSession(parsed, first.handle ?? {}, secrets);
    expect(double.stops).toEqual([first.handle?.runtimeSessionId]);
    double.forgetSessions();
    await expect(
      runtime.closeSession(parsed, first.handle ?? {}, secrets),
    ).resolves.toBeUndefined();
  });

  it("stops the session at AgentCore when the run is cancelled; the next turn opens a new one", async () => {
    const { double, turn } = await agentCore();
    const sessionId = randomUUID();
    const first = await turn("one", { sessionId });
    double.holdTurns();
    const controller = new AbortController();
    const pending = turn("a long task", {
      sessionId,
      handle: first.handle,
      signal: controller.signal,
    });
    await eventually(async () => expect(double.turns()).toHaveLength(2));
    controller.abort();
    const cancelled = await pending;
    expect(cancelled.error).toBeUndefined();
    expect(double.stops).toEqual([`switchboard-${sessionId}`]);
    expect(double.cancellations()).toBe(1);
    expect(cancelled.handle).toMatchObject({ stopped: true });
    expect(cancelled.events.find((e) => e.type === "usage")).toMatchObject({
      usage: { costEstimated: true },
    });
    double.releaseTurns();
    const next = await turn("still there?", { sessionId, handle: cancelled.handle });
    expect(next.events).toContainEqual(
      expect.objectContaining({
        status: "session_restarted",
        message: expect.stringMatching(/stopped when a run was cancelled/),
      }),
    );
  });

  it("stops the session even when the caller stops reading at the first event after a cancel, as the engine does", async () => {
    const { double, settings } = await agentCore();
    double.holdTurns();
    const controller = new AbortController();
    const sessionId = randomUUID();
    const reading = (async () => {
      for await (const _event of runtime.turn({
        settings: runtime.settings.parse(settings),
        agent: { id: randomUUID(), name: "agentcore" },
        sessionId,
        handle: null,
        input: "a long task",
        transcript: [],
        runId: "run-engine-like",
        attempt: 1,
        signal: controller.signal,
        secrets: allowedEnvironment(env, Object.keys(env)),
      })) {
        if (controller.signal.aborted) break;
      }
    })();
    await eventually(async () => expect(double.turns()).toHaveLength(1));
    controller.abort();
    await reading;
    expect(double.stops).toEqual([`switchboard-${sessionId}`]);
    expect(double.cancellations()).toBe(1);
    double.releaseTurns();
  });

  describe("failures, in words, without secrets", () => {
    it("names the ARN on 404 and the credentials when AWS refuses them", async () => {
      const { turn } = await agentCore({
        agent_runtime_arn: AGENTCORE_ARN.replace("contract_agent", "other_agent"),
      });
      const missing = failure((await turn("hi")).error);
      expect(missing.retryable).toBe(false);
      expect(missing.message).toMatch(
        /no agent runtime arn:aws:bedrock-agentcore:.*other_agent.*\(HTTP 404\).*agent_runtime_arn/,
      );

      const { turn: wrong } = await agentCore({
        credentials: {
          access_key_id: { env: "AC_KEY_ID" },
          secret_access_key: { env: "AC_WRONG" },
        },
      });
      const refused = failure((await wrong("hi")).error);
      expect(refused.retryable).toBe(false);
      expect(refused.message).toMatch(
        /AWS refused this agent's credentials.*spec\.runtime\.credentials/,
      );
    });

    it("retries throttling and 5xx, not validation; the agent's own failure is the agent's", async () => {
      const { double, turn } = await agentCore();
      for (const [status, type, code, retryable] of [
        [429, "ThrottlingException", "runtime_unavailable", true],
        [500, "InternalServerException", "runtime_unavailable", true],
        [400, "ValidationException", "runtime_rejected", false],
        [424, "RuntimeClientError", "agent_failed", false],
      ] as const) {
        double.scriptNext((res) => {
          res.writeHead(status, { "content-type": "application/json", "x-amzn-errortype": type });
          res.end(JSON.stringify({ message: `AgentCore says ${type}` }));
        });
        const error = failure((await turn("hi")).error);
        expect(error.code).toBe(code);
        expect(error.retryable).toBe(retryable);
        expect(error.message).toContain(`AgentCore says ${type}`);
      }
    });

    it("fails as retryable, saying so, when the stream is dropped mid-answer", async () => {
      const { double, turn } = await agentCore();
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write('data: "Half an "\n\n');
        setTimeout(() => res.socket?.destroy(), 20);
      });
      const outcome = await turn("hi");
      const error = failure(outcome.error);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/stream broke off/);
      expect(outcome.events.some((e) => e.type === "message")).toBe(false);
    });

    it("fails with the agent's error in its answer, and on answers it cannot read", async () => {
      const { double, turn } = await agentCore();
      for (const [type, body, code, pattern] of [
        [
          "application/json",
          JSON.stringify({ error: "Model access denied for claude" }),
          "agent_failed",
          /Model access denied/,
        ],
        [
          "text/event-stream",
          'data: {"error": {"message": "Tool crashed"}}\n\n',
          "agent_failed",
          /Tool crashed/,
        ],
        ["application/json", "{ nope", "runtime_bad_response", /not valid JSON/],
        ["application/json", JSON.stringify({ count: 3 }), "runtime_bad_response", /no text/],
        ["text/html", "<html></html>", "runtime_bad_response", /text\/html/],
      ] as const) {
        double.scriptNext((res) => {
          res.writeHead(200, { "content-type": type });
          res.end(body);
        });
        const error = failure((await turn("hi")).error);
        expect(error.code).toBe(code);
        expect(error.message).toMatch(pattern);
      }
    });
  });
});
