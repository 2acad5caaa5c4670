import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CursorAgentsWireDouble } from "../../test/doubles/cursor-agents-wire.js";
import { collectTurn, type TurnOutcome } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import type { RuntimeEvent } from "../runtime.js";
import { RuntimeError } from "../runtime-error.js";
import { CursorRuntime } from "./index.js";

const KEY = "key_cursor-adapter-secret";
const KEY_BASIC = Buffer.from(`${KEY}:`).toString("base64");
const env = { CURSOR_TEST_KEY: KEY };

/** Neither the key nor its Basic form anywhere a person or a log could see. */
function expectNoKey(outcome: TurnOutcome): void {
  const seen = JSON.stringify(outcome.events) + String((outcome.error as Error)?.message ?? "");
  expect(seen).not.toContain(KEY);
  expect(seen).not.toContain(KEY_BASIC);
}

function failure(outcome: TurnOutcome): RuntimeError {
  expect(outcome.error).toBeInstanceOf(RuntimeError);
  expectNoKey(outcome);
  return outcome.error as RuntimeError;
}

const usageOf = (events: RuntimeEvent[]) =>
  events.flatMap((event) => (event.type === "usage" ? [event.usage] : []));

describe("cursor runtime", () => {
  let double: CursorAgentsWireDouble;
  const runtime = new CursorRuntime({ egress: loopbackEgress, pollMs: 20 });
  beforeAll(async () => {
    double = await CursorAgentsWireDouble.start({ apiKey: KEY });
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
    type: "cursor",
    repository: "https://github.com/acme/app",
    api_key: { env: "CURSOR_TEST_KEY" },
    base_url: double.url,
    price_per_run_usd: 0.4,
    ...extra,
  });
  const turn = (
    input: string,
    more: Partial<Parameters<typeof collectTurn>[2]> = {},
    extra: Record<string, unknown> = {},
  ) => collectTurn(runtime, settingsWith(extra), { sessionId: randomUUID(), input, env, ...more });

  describe("settings", () => {
    const parse = (extra: Record<string, unknown>) =>
      runtime.settings.safeParse({ ...settingsWith(), base_url: undefined, ...extra });
    const message = (extra: Record<string, unknown>) => parse(extra).error?.issues[0]?.message;

    it("takes a repository, a key reference and a price; defaults the API address", () => {
      const parsed = parse({});
      expect(parsed.success).toBe(true);
      expect(parsed.data).toMatchObject({
        base_url: "https://api.cursor.com",
        stream: true,
        poll_seconds: 5,
      });
    });

    it("says what is wrong, in words an agent's owner can act on", () => {
      expect(message({ repository: "git@github.com:acme/app.git" })).toMatch(
        /https:\/\/ URL of the repository/,
      );
      expect(message({ api_key: KEY })).toMatch(/secret reference.*never the value/);
      expect(message({ price_per_run_usd: undefined })).toMatch(
        /what one Cursor agent run costs you.*estimate/,
      );
      expect(message({ price_per_run_usd: -1 })).toMatch(/0 or more/);
      expect(message({ mode: "yolo" })).toBe('must be "agent" or "plan"');
      expect(message({ poll_seconds: 0 })).toMatch(/at least 1 second/);
      expect(message({ model: "" })).toMatch(/model id Cursor lists/);
      expect(message({ branch: "main" })).toMatch(/branch/);
    });
  });

  it("launches an agent on the manifest's repository, ref, model and branch settings", async () => {
    const outcome = await turn(
      "Add a README",
      {},
      {
        ref: "release/2.0",
        model: "composer-2",
        auto_create_pr: true,
        skip_reviewer_request: true,
        work_on_current_branch: false,
        mode: "plan",
      },
    );
    expect(outcome.error).toBeUndefined();
    expect(double.created).toEqual([
      {
        prompt: { text: "Add a README" },
        name: "Switchboard: contract-agent",
        repos: [{ url: "https://github.com/acme/app", startingRef: "release/2.0" }],
        model: { id: "composer-2" },
        workOnCurrentBranch: false,
        autoCreatePR: true,
        skipReviewerRequest: true,
        mode: "plan",
      },
    ]);
    const [agentId] = double.turns().map((t) => t.runtimeSession);
    expect(outcome.events[0]).toEqual({
      type: "handle",
      handle: { agentId, runId: expect.stringMatching(/^run-/), forRun: expect.any(String) },
    });
    expect(outcome.events).toContainEqual({
      type: "status",
      status: "session_started",
      message: `Cursor agent: https://cursor.com/agents/${agentId}`,
    });
    // The answer, streamed, then shown whole with the pull request Cursor opened.
    expect(outcome.events.filter((e) => e.type === "message_delta").length).toBe(2);
    expect(outcome.text).toMatch(
      /^You said "Add a README" \(turn 1\)\n\nPull request: https:\/\/github\.com\/acme\/app\/pull\/\d+$/,
    );
  });

  it("shows the branch when no pull request was opened", async () => {
    const outcome = await turn("Fix the build");
    expect(outcome.text).toMatch(/\n\nBranch: cursor\/contract-\w{4} \(github\.com\/acme\/app\)$/);
  });

  it("sends later turns of the session as follow-up runs on the same agent", async () => {
    const sessionId = randomUUID();
    const first = await turn("first", { sessionId });
    const second = await turn("second", { sessionId, handle: first.handle });
    expect(second.error).toBeUndefined();
    expect(second.text).toMatch(/^You said "second" \(turn 2\)/);
    const [a, b] = double.turns();
    expect(b?.runtimeSession).toBe(a?.runtimeSession);
    expect(double.created).toHaveLength(1);
    expect(double.requests).toContain(`POST /v1/agents/${a?.runtimeSession}/runs`);
    expect(second.handle?.agentId).toBe(first.handle?.agentId);
  });

  it("books each run at the configured price, marked as an estimate, with Cursor's tokens", async () => {
    const outcome = await turn("count my tokens");
    expect(usageOf(outcome.events)).toEqual([
      {
        model: "cursor-default",
        inputTokens: 43,
        outputTokens: 7,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: 0.4,
        costEstimated: true,
      },
    ]);
  });

  it("waits while the agent is busy (409 agent_busy) and then sends the follow-up", async () => {
    const sessionId = randomUUID();
    const first = await turn("first", { sessionId });
    double.busyNext(2);
    const second = await turn("second", { sessionId, handle: first.handle });
    expect(second.error).toBeUndefined();
    expect(second.text).toMatch(/turn 2/);
    const waits = second.events.filter((e) => e.type === "status" && e.status === "waiting");
    expect(waits).toHaveLength(1);
    const followUps = double.requests.filter((r) => r.endsWith("/runs") && r.startsWith("POST"));
    expect(followUps).toHaveLength(3);
  });

  it("polls the run when streaming is off, showing its status as it changes", async () => {
    const outcome = await turn("poll me", {}, { stream: false });
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toMatch(/^You said "poll me" \(turn 1\)/);
    expect(double.requests.some((r) => r.endsWith("/stream"))).toBe(false);
    expect(
      outcome.events.filter((e) => e.type === "status").map((e) => e.type === "status" && e.status),
    ).toContain("finished");
  });

  it("reads the run by polling once Cursor no longer keeps its stream (410 stream_expired)", async () => {
    double.expireStreams();
    const outcome = await turn("late reader");
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toMatch(/^You said "late reader" \(turn 1\)/);
  });

  it("shows the agent's tool calls in the timeline", async () => {
    double.scriptNextRuns({ kind: "tool", name: "read_file", args: { path: "README.md" } });
    const outcome = await turn("read it");
    expect(outcome.events).toContainEqual({
      type: "tool_use",
      name: "read_file",
      input: { path: "README.md" },
      id: "call-1",
    });
  });

  it("stops the run at Cursor when the run is cancelled", async () => {
    double.holdTurns();
    const controller = new AbortController();
    const pending = turn("a long refactor", { signal: controller.signal });
    await eventually(async () => expect(double.turns()).toHaveLength(1));
    controller.abort();
    const outcome = await pending;
    expect(outcome.error).toBeUndefined();
    expect(outcome.events.some((e) => e.type === "message")).toBe(false);
    expect(double.cancellations()).toBe(1);
    const agentId = double.turns()[0]?.runtimeSession as string;
    expect(double.agent(agentId)?.runs).toEqual(["CANCELLED"]);
  });

  it("stops waiting on a busy agent when cancelled, without sending the follow-up", async () => {
    const sessionId = randomUUID();
    const first = await turn("first", { sessionId });
    double.busyNext(1000);
    const controller = new AbortController();
    const pending = turn("second", { sessionId, handle: first.handle, signal: controller.signal });
    await eventually(async () =>
      expect(double.requests.filter((r) => r.endsWith("/runs")).length).toBeGreaterThan(1),
    );
    controller.abort();
    const outcome = await pending;
    expect(outcome.error).toBeUndefined();
    expect(double.turns()).toHaveLength(1);
  });

  it("refuses a wrong key without retry, pointing at the setting and never showing the key", async () => {
    const outcome = await turn("hello", { env: { CURSOR_TEST_KEY: "key_wrong" } });
    const error = failure(outcome);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/HTTP 401.*spec\.runtime\.api_key/);
  });

  it("retries when Cursor answers 429 or 5xx, and not when it refuses the request", async () => {
    double.failNextTurns(1);
    const unavailable = failure(await turn("hello"));
    expect(unavailable).toMatchObject({ retryable: true, code: "runtime_unavailable" });
    expect(unavailable.message).toContain("HTTP 503");

    double.refuseNext(429, "rate_limited", "Too many requests");
    expect(failure(await turn("hello")).retryable).toBe(true);

    double.refuseNext(400, "validation_error", "Repository acme/app is not connected");
    const refused = failure(await turn("hello"));
    expect(refused).toMatchObject({ retryable: false, code: "runtime_rejected" });
    expect(refused.message).toBe("Cursor answered HTTP 400: Repository acme/app is not connected");
  });

  it("fails as retryable when the stream drops, and the retry reads the same run", async () => {
    double.scriptNextRuns({ kind: "drop" });
    const sessionId = randomUUID();
    const runId = randomUUID();
    const dropped = await turn("keep going", { sessionId, runId });
    const error = failure(dropped);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/event stream closed before the run finished/);
    const retried = await turn("keep going", { sessionId, runId, handle: dropped.handle });
    expect(retried.error).toBeUndefined();
    expect(retried.text).toMatch(/^You said "keep going" \(turn 1\)/);
    // The prompt went to Cursor once: the retry read the run the first try started.
    expect(double.turns()).toHaveLength(1);
    expect(double.created).toHaveLength(1);
  });

  it("fails with the agent's words when its run ends in ERROR, still booking the run", async () => {
    double.scriptNextRuns({ kind: "error", text: "Could not install dependencies" });
    const outcome = await turn("build it");
    const error = failure(outcome);
    expect(error).toMatchObject({ code: "agent_failed", retryable: false });
    expect(error.message).toBe("The Cursor agent's run failed: Could not install dependencies");
    expect(usageOf(outcome.events)).toEqual([
      expect.objectContaining({ costUsd: 0.4, costEstimated: true }),
    ]);
  });

  it("opens a new agent primed with the conversation when the old one was archived", async () => {
    const sessionId = randomUUID();
    const first = await turn("remember 42", { sessionId });
    await runtime.closeSession(
      runtime.settings.parse(settingsWith()),
      first.handle ?? {},
      async () => KEY,
    );
    const agentId = first.handle?.agentId as string;
    expect(double.agent(agentId)?.archived).toBe(true);
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
    expect(second.handle?.agentId).not.toBe(agentId);
    expect(double.created[1]?.prompt.text).toMatch(/remember 42[\s\S]*which number\?/);
  });

  it("fails as retryable, in words, when Cursor cannot be reached", async () => {
    const outcome = await turn("hello?", {}, { base_url: "http://127.0.0.1:9" });
    const error = failure(outcome);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/^Cursor could not be reached \(/);
  });
});
