import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { event, HttpAgentDouble } from "../../test/doubles/http-agent.js";
import { collectTurn } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import { freePort } from "../../test/support/ports.js";
import { RuntimeError } from "../runtime-error.js";
import { HttpRuntime } from "./index.js";

const KEY = "secret-key-123";
const env = { AGENT_TEST_KEY: KEY };

function failure(error: unknown): RuntimeError {
  expect(error).toBeInstanceOf(RuntimeError);
  expect((error as Error).message).not.toContain(KEY);
  return error as RuntimeError;
}

describe("http runtime", () => {
  const runtime = new HttpRuntime({ egress: loopbackEgress });
  let json: HttpAgentDouble;
  let sse: HttpAgentDouble;
  const settings = (double: HttpAgentDouble, extra: Record<string, unknown> = {}) => ({
    type: "http",
    url: double.url,
    headers: { "X-Api-Key": { env: "AGENT_TEST_KEY" } },
    ...extra,
  });
  const turn = (
    double: HttpAgentDouble,
    input: string,
    extra: Partial<Parameters<typeof collectTurn>[2]> = {},
    settingsExtra: Record<string, unknown> = {},
  ) =>
    collectTurn(runtime, settings(double, settingsExtra), {
      sessionId: randomUUID(),
      input,
      env,
      ...extra,
    });

  beforeAll(async () => {
    json = await HttpAgentDouble.start({ stream: false, requireHeaders: { "X-Api-Key": KEY } });
    sse = await HttpAgentDouble.start({ stream: true, requireHeaders: { "X-Api-Key": KEY } });
  });
  afterEach(() => {
    expect(json.unexpected()).toEqual([]);
    expect(sse.unexpected()).toEqual([]);
    json.releaseTurns();
    sse.releaseTurns();
    json.reset();
    sse.reset();
  });
  afterAll(async () => {
    await runtime.close();
    await json.close();
    await sse.close();
  });

  describe("settings", () => {
    it("refuses a header written as a plain value, asking for a secret reference", () => {
      const parsed = runtime.settings.safeParse({
        type: "http",
        url: "https://agent.example.com",
        headers: { "X-Api-Key": "sk-live-oops" },
      });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/secret reference/);
      expect(parsed.error?.issues[0]?.path).toEqual(["headers", "X-Api-Key"]);
    });

    it("refuses a URL that is not http(s), a bad header name, and unknown fields", () => {
      const bad = (extra: Record<string, unknown>) =>
        runtime.settings.safeParse({ type: "http", url: "https://a.example.com", ...extra });
      expect(bad({ url: "ftp://a.example.com" }).error?.issues[0]?.message).toMatch(/http/);
      expect(bad({ headers: { "Bad Header": { env: "X" } } }).success).toBe(false);
      expect(bad({ timeout_seconds: 0 }).error?.issues[0]?.message).toMatch(/at least 1/);
      expect(bad({ retries: 3 }).success).toBe(false);
      expect(bad({}).data?.timeout_seconds).toBe(300);
    });
  });

  it("sends the contract's request with the header read from the environment", async () => {
    const sessionId = randomUUID();
    const outcome = await turn(json, "hello", {
      sessionId,
      transcript: [{ role: "user", content: "earlier" }],
    });
    expect(outcome.error).toBeUndefined();
    const [received] = json.received;
    expect(received?.headers["x-api-key"]).toBe(KEY);
    expect(received?.headers.accept).toContain("text/event-stream");
    expect(received?.body).toMatchObject({
      session_id: sessionId,
      runtime_session: null,
      input: "hello",
      transcript: [{ role: "user", content: "earlier" }],
      attempt: 1,
    });
    expect(received?.body.run_id).toMatch(/^run-/);
  });

  it("says which environment variable is missing, without calling the agent", async () => {
    const outcome = await collectTurn(runtime, settings(json), {
      sessionId: randomUUID(),
      input: "hello",
      env: { AGENT_TEST_KEY: "" },
    });
    expect(failure(outcome.error).code).toBe("missing_secret");
    expect((outcome.error as Error).message).toContain("AGENT_TEST_KEY");
    expect(json.received).toHaveLength(0);
  });

  it("reports the usage a JSON answer carries", async () => {
    const outcome = await turn(json, "count my tokens");
    expect(outcome.events).toContainEqual({
      type: "usage",
      usage: { model: "echo-1", inputTokens: 15, outputTokens: 6 },
    });
    expect(outcome.handle?.runtime_session).toMatch(/^agent-session-/);
  });

  it("maps status and tool events of a stream, and skips events it does not know", async () => {
    sse.scriptNext((res) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      res.write(": a comment line\n\n");
      res.write(event("session", { runtime_session: "s-1" }));
      res.write(event("status", { status: "searching", message: "Looking in the wiki" }));
      res.write(event("tool_use", { name: "wiki.search", input: { q: "sso" }, id: "t1" }));
      res.write(event("my_own_event", { anything: true }));
      res.write('event: delta\ndata: {"text":"Version 2 "}\r\n\r\n');
      res.write(event("delta", { text: "added SSO." }));
      res.end(event("done", {}));
    });
    const outcome = await turn(sse, "what changed?");
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe("Version 2 added SSO.");
    expect(outcome.handle).toEqual({ runtime_session: "s-1" });
    expect(outcome.events).toContainEqual({
      type: "status",
      status: "searching",
      message: "Looking in the wiki",
    });
    expect(outcome.events).toContainEqual({
      type: "tool_use",
      name: "wiki.search",
      input: { q: "sso" },
      id: "t1",
    });
  });

  it("fails with the agent's message on an error event, retryable only when it says so", async () => {
    sse.scriptNext((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(event("delta", { text: "Let me " }));
      res.end(event("error", { message: "The wiki is down" }));
    });
    const final = failure((await turn(sse, "search")).error);
    expect(final.message).toContain("The wiki is down");
    expect(final.retryable).toBe(false);
    expect(final.code).toBe("agent_failed");

    sse.scriptNext((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(event("error", { message: "Overloaded", retryable: true }));
    });
    expect(failure((await turn(sse, "search")).error).retryable).toBe(true);
  });

  it("retries a stream that stops before its done event", async () => {
    sse.scriptNext((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(event("delta", { text: "half an ans" }));
    });
    const error = failure((await turn(sse, "tell me")).error);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/ended before/);
  });

  it("fails without retry on answers it cannot read", async () => {
    const cases: Array<[string, string, RegExp]> = [
      ["application/json", "{not json", /not valid JSON/],
      ["application/json", JSON.stringify({ answer: "wrong field" }), /no "output"/],
      ["application/json", JSON.stringify({ output: "x", usage: { tokens: 3 } }), /usage/],
      ["text/event-stream", "event: delta\ndata: not json\n\n", /not JSON/],
      ["text/html", "<html>Sign in</html>", /text\/html/],
    ];
    for (const [type, body, message] of cases) {
      json.scriptNext((res) => {
        res.writeHead(200, { "content-type": type });
        res.end(body);
      });
      const error = failure((await turn(json, "hello")).error);
      expect(error.code).toBe("runtime_bad_response");
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(message);
    }
  });

  it("retries 5xx and 429 but not other 4xx, showing the agent's message", async () => {
    for (const [status, retryable] of [
      [500, true],
      [429, true],
      [400, false],
      [403, false],
    ] as const) {
      json.scriptNext((res) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `nope ${status}` }));
      });
      const error = failure((await turn(json, "hello")).error);
      expect(error.retryable).toBe(retryable);
      expect(error.message).toContain(`HTTP ${status}: nope ${status}`);
    }
  });

  it("treats a 409 that is not session_not_found as a refusal, without a new session", async () => {
    const first = await turn(json, "one");
    json.scriptNext((res) => {
      res.writeHead(409, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "busy", message: "Another turn is running" }));
    });
    const second = await turn(json, "two", { handle: first.handle });
    const error = failure(second.error);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Another turn is running");
    expect(second.events.some((e) => e.type === "status")).toBe(false);
    expect(json.received).toHaveLength(2);
  });

  it("re-sends without the lost session, primed with the transcript, and says so", async () => {
    const sessionId = randomUUID();
    const first = await turn(sse, "my name is Ada", { sessionId });
    sse.forgetSessions();
    const second = await turn(sse, "what is my name?", {
      sessionId,
      handle: first.handle,
      transcript: [
        { role: "user", content: "my name is Ada" },
        { role: "agent", content: first.text },
      ],
    });
    expect(second.error).toBeUndefined();
    const types = second.events.map((e) => e.type);
    expect(types.indexOf("status")).toBeLessThan(types.indexOf("handle"));
    const resent = sse.received.at(-1)?.body;
    expect(resent.runtime_session).toBeNull();
    expect(resent.input).toContain("my name is Ada");
    expect(resent.input).toContain("what is my name?");
    expect(second.handle?.runtime_session).not.toBe(first.handle?.runtime_session);
  });

  it("fails as retryable when the agent takes longer than timeout_seconds", async () => {
    json.scriptNext(() => {});
    const started = Date.now();
    const outcome = await turn(json, "slow", {}, { timeout_seconds: 1 });
    const error = failure(outcome.error);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/within 1 seconds/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("on cancel, closes the stream and posts once to the agent's cancel_url", async () => {
    sse.holdTurns();
    const controller = new AbortController();
    const pending = turn(sse, "a long job", { signal: controller.signal });
    await eventually(async () => expect(sse.turns()).toHaveLength(1));
    controller.abort();
    const outcome = await pending;
    expect(outcome.error).toBeUndefined();
    expect(outcome.events.some((e) => e.type === "message")).toBe(false);
    expect(sse.cancellations()).toBe(1);
  });

  it("refuses a cancel_url on another host, which would receive the secret headers", async () => {
    sse.scriptNext((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(event("session", { cancel_url: "https://elsewhere.example.com/cancel" }));
    });
    const error = failure((await turn(sse, "hello")).error);
    expect(error.message).toMatch(/own host/);
  });

  it("runs the example agent from CONTRACT.md as written", async () => {
    const doc = await readFile(new URL("./CONTRACT.md", import.meta.url), "utf8");
    const code = doc.split("## An example agent")[1]?.match(/```js\n([\s\S]*?)```/)?.[1];
    expect(code).toBeTruthy();
    const dir = await mkdtemp(join(tmpdir(), "http-contract-"));
    const port = await freePort();
    await writeFile(join(dir, "agent.mjs"), code as string);
    const agent = spawn(process.execPath, [join(dir, "agent.mjs")], {
      env: { ...process.env, PORT: String(port), AGENT_KEY: KEY },
      stdio: "ignore",
    });
    try {
      const raw = {
        type: "http",
        url: `http://127.0.0.1:${port}`,
        headers: { "X-Api-Key": { env: "AGENT_TEST_KEY" } },
      };
      const sessionId = randomUUID();
      const first = await eventually(async () => {
        const outcome = await collectTurn(runtime, raw, { sessionId, input: "hi", env });
        expect(outcome.error).toBeUndefined();
        return outcome;
      });
      expect(first.text).toBe("Turn 1: you said hi");
      const second = await collectTurn(runtime, raw, {
        sessionId,
        input: "again",
        handle: first.handle,
        env,
      });
      expect(second.text).toBe("Turn 2: you said again");
      const unknown = await collectTurn(runtime, raw, {
        sessionId,
        input: "after a restart",
        handle: { runtime_session: "gone" },
        transcript: [{ role: "user", content: "hi" }],
        env,
      });
      expect(unknown.events[0]).toMatchObject({ status: "session_restarted" });
      expect(unknown.text).toMatch(/^Turn 1: you said This conversation continues/);
    } finally {
      agent.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
