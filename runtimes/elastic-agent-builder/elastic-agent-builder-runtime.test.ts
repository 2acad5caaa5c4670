import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentBuilderWireDouble } from "../../test/doubles/agent-builder-wire.js";
import { collectTurn, type TurnOutcome } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import { RuntimeError } from "../runtime-error.js";
import { ElasticAgentBuilderRuntime } from "./index.js";

const KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
const env = { KIBANA_TEST_KEY: KEY };

function failure(outcome: TurnOutcome): RuntimeError {
  expect(outcome.error).toBeInstanceOf(RuntimeError);
  const seen = JSON.stringify(outcome.events) + (outcome.error as Error).message;
  expect(seen).not.toContain(KEY);
  return outcome.error as RuntimeError;
}

describe("elastic-agent-builder runtime", () => {
  let double: AgentBuilderWireDouble;
  const runtime = new ElasticAgentBuilderRuntime({ egress: loopbackEgress });
  beforeAll(async () => {
    double = await AgentBuilderWireDouble.start({
      apiKey: KEY,
      agents: { default: ["triage"], support: ["triage"] },
    });
  });
  afterEach(() => {
    const unexpected = double.unexpected();
    double.reset();
    expect(unexpected).toEqual([]);
  });
  afterAll(async () => {
    await runtime.close();
    await double.close();
  });

  const settingsWith = (extra: Record<string, unknown> = {}) => ({
    type: "elastic-agent-builder",
    kibana_url: double.url,
    agent_id: "triage",
    space: "support",
    api_key: { env: "KIBANA_TEST_KEY" },
    ...extra,
  });
  const turn = (
    input: string,
    more: Partial<Parameters<typeof collectTurn>[2]> = {},
    extra: Record<string, unknown> = {},
  ) => collectTurn(runtime, settingsWith(extra), { sessionId: randomUUID(), input, env, ...more });

  it("says what is wrong with its settings, in words an agent's owner can act on", () => {
    const message = (extra: Record<string, unknown>) =>
      runtime.settings.safeParse(settingsWith(extra)).error?.issues[0]?.message;
    expect(runtime.settings.safeParse(settingsWith()).success).toBe(true);
    expect(message({ kibana_url: "kibana.example.com" })).toMatch(/http\(s\) URL of Kibana/);
    expect(message({ kibana_url: `${double.url}/s/support` })).toMatch(
      /put the space in spec\.runtime\.space/,
    );
    expect(message({ space: "Support Team" })).toMatch(/Kibana space id/);
    expect(message({ api_key: KEY })).toMatch(/secret reference.*never the value/);
    expect(message({ agent_id: " " })).toMatch(/agent's id in Agent Builder/);
  });

  it("converses with the agent in its space, with the API key and kbn-xsrf headers", async () => {
    const outcome = await turn("Which queue is this in?");
    expect(outcome.error).toBeUndefined();
    const [received] = double.received;
    expect(received?.path).toBe("/s/support/api/agent_builder/converse/async");
    expect(received?.headers.authorization).toBe(`ApiKey ${KEY}`);
    expect(received?.headers["kbn-xsrf"]).toBe("true");
    expect(received?.body).toEqual({ agent_id: "triage", input: "Which queue is this in?" });
    const conversationId = double.turns()[0]?.runtimeSession;
    expect(outcome.events[0]).toEqual({ type: "handle", handle: { conversationId } });
    expect(outcome.events.filter((e) => e.type === "message_delta")).toHaveLength(2);
    expect(outcome.text).toBe('You said "Which queue is this in?" (turn 1)');
    expect(outcome.events.at(-1)).toEqual({
      type: "usage",
      usage: { model: "rainbow-sprinkles", inputTokens: 105, outputTokens: 9 },
    });
  });

  it("uses the default space without a prefix, and the connector the manifest names", async () => {
    await turn("hello", {}, { space: undefined, connector_id: "my-gpt" });
    await turn("hello", {}, { space: "default" });
    expect(double.received.map((r) => r.path)).toEqual([
      "/api/agent_builder/converse/async",
      "/api/agent_builder/converse/async",
    ]);
    expect(double.received[0]?.body.connector_id).toBe("my-gpt");
  });

  it("sends the second turn of a session to the same conversation", async () => {
    const sessionId = randomUUID();
    const first = await turn("first", { sessionId });
    const second = await turn("second", { sessionId, handle: first.handle });
    expect(second.error).toBeUndefined();
    expect(second.text).toBe('You said "second" (turn 2)');
    expect(double.received[1]?.body.conversation_id).toBe(first.handle?.conversationId);
    const [a, b] = double.turns();
    expect(b?.runtimeSession).toBe(a?.runtimeSession);
  });

  it("closes the stream when the run is cancelled, which stops the round in Kibana", async () => {
    double.holdTurns();
    const controller = new AbortController();
    const pending = turn("a long investigation", { signal: controller.signal });
    await eventually(async () => expect(double.turns()).toHaveLength(1));
    controller.abort();
    const outcome = await pending;
    expect(outcome.error).toBeUndefined();
    expect(outcome.events.some((e) => e.type === "message")).toBe(false);
    await eventually(async () => expect(double.cancellations()).toBe(1));
  });

  it("refuses a wrong key without retry, pointing at the setting and never showing the key", async () => {
    const error = failure(await turn("hello", { env: { KIBANA_TEST_KEY: "d3Jvbmc=" } }));
    expect(error).toMatchObject({ code: "runtime_rejected", retryable: false });
    expect(error.message).toMatch(/HTTP 401.*spec\.runtime\.api_key/);
  });

  it("names the agent and the space when Kibana has no such agent", async () => {
    const error = failure(await turn("hello", {}, { agent_id: "nobody" }));
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "Elastic Agent Builder has no agent nobody in space support (HTTP 404): Agent nobody not found; check spec.runtime.agent_id and spec.runtime.space.",
    );
  });

  it("retries 5xx, not other refusals", async () => {
    double.failNextTurns(1);
    const unavailable = failure(await turn("hello"));
    expect(unavailable.retryable).toBe(true);
    expect(unavailable.message).toBe(
      "Elastic Agent Builder answered HTTP 503: Kibana server is not ready yet",
    );
    double.scriptNextRounds({ kind: "http", status: 400, message: "Invalid tool override: x" });
    const refused = failure(await turn("hello"));
    expect(refused.retryable).toBe(false);
    expect(refused.message).toContain("HTTP 400: Invalid tool override: x");
  });

  it("fails with Kibana's words on an error event: retryable only when internal", async () => {
    double.scriptNextRounds(
      { kind: "error", code: "agentExecutionError", message: "The connector refused the prompt" },
      { kind: "error", code: "internalError", message: "socket hang up" },
    );
    const failed = failure(await turn("hello"));
    expect(failed).toMatchObject({ code: "agent_failed", retryable: false });
    expect(failed.message).toBe("The Agent Builder agent failed: The connector refused the prompt");
    expect(failure(await turn("hello")).retryable).toBe(true);
  });

  it("fails as retryable when the stream drops before the round completes", async () => {
    double.scriptNextRounds({ kind: "drop" });
    const error = failure(await turn("hello"));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/stream closed before the agent finished/);
  });

  it("reads Elastic Cloud's stream, labelled application/octet-stream, and shows tool calls", async () => {
    double.scriptNextRounds(
      { kind: "cloud" },
      { kind: "tool", toolId: "platform.core.search", params: { query: "vpn" } },
    );
    expect((await turn("on cloud")).text).toBe('You said "on cloud" (turn 1)');
    const tooled = await turn("search");
    expect(tooled.events).toContainEqual({
      type: "tool_use",
      name: "platform.core.search",
      input: { query: "vpn" },
      id: "tooluse_1",
    });
  });

  it("opens a new conversation, primed, when Kibana answers 404 for the old one", async () => {
    const sessionId = randomUUID();
    const first = await turn("remember 42", { sessionId });
    double.scriptNextRounds({ kind: "http", status: 404, message: "Conversation abc not found" });
    const second = await turn("which number?", {
      sessionId,
      handle: first.handle,
      transcript: [
        { role: "user", content: "remember 42" },
        { role: "agent", content: first.text },
      ],
    });
    expect(second.error).toBeUndefined();
    expect(second.events).toContainEqual(
      expect.objectContaining({ type: "status", status: "session_restarted" }),
    );
    expect(second.handle?.conversationId).not.toBe(first.handle?.conversationId);
    expect(double.received.at(-1)?.body.conversation_id).toBeUndefined();
    expect(double.received.at(-1)?.body.input).toMatch(/remember 42[\s\S]*which number\?/);
  });
});
