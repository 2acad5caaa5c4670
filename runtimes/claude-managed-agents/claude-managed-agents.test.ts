import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CENTS_PER_TURN,
  DOUBLE_MODEL,
  ManagedAgentsWireDouble,
} from "../../test/doubles/managed-agents-wire.js";
import { collectTurn } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { allowedEnvironment } from "../secrets.js";
import { ClaudeManagedAgentsRuntime } from "./index.js";

const KEY = "sk-ant-test-key-123";
const env = { CMA_TEST_KEY: KEY };

let double: ManagedAgentsWireDouble;
let runtime: ClaudeManagedAgentsRuntime;

const settingsFor = (extra: Record<string, unknown> = {}) => ({
  type: "claude-managed-agents",
  agent: "support-bot",
  environment: "prod-sandbox",
  api_key: { env: "CMA_TEST_KEY" },
  base_url: double.url,
  ...extra,
});

const turn = (
  input: string,
  extra: Parameters<typeof collectTurn>[2] extends infer T ? Partial<T> : never = {},
  settings = settingsFor(),
) => collectTurn(runtime, settings, { sessionId: randomUUID(), input, env, ...extra });

const errorOf = (outcome: { error: unknown }) => outcome.error as RuntimeError;

beforeAll(async () => {
  double = await ManagedAgentsWireDouble.start({
    apiKey: KEY,
    // Two per page: the agent looked up is on the second page.
    pageSize: 2,
    agents: [
      { id: "agent_01aaa", name: "billing-bot" },
      { id: "agent_01bbb", name: "support-bot", archived: true },
      { id: "agent_01ccc", name: "support-bot" },
      { id: "agent_01ddd", name: "twin" },
      { id: "agent_01eee", name: "twin" },
    ],
    environments: [{ id: "env_01prod", name: "prod-sandbox" }],
  });
});

afterEach(() => {
  const unexpected = double.unexpected();
  double.reset();
  runtime = new ClaudeManagedAgentsRuntime({ egress: loopbackEgress });
  expect(unexpected).toEqual([]);
});

afterAll(async () => {
  await double.close();
});

runtime = new ClaudeManagedAgentsRuntime({ egress: loopbackEgress });

describe("ClaudeManagedAgentsRuntime", () => {
  it("looks an agent's name up once, skips archived ones, and never creates an agent or environment", async () => {
    const first = await turn("hello");
    const second = await turn("hello again");
    expect(first.error).toBeUndefined();
    expect(second.error).toBeUndefined();
    expect(first.text).toBe('You said "hello" (turn 1)');
    const lookups = double.requests.filter((r) => r.startsWith("GET /v1/agents"));
    // Every page of the listing (5 agents, 2 a page), for the first turn only.
    expect(lookups).toEqual([
      "GET /v1/agents?limit=100",
      "GET /v1/agents?limit=100&page=2",
      "GET /v1/agents?limit=100&page=4",
    ]);
    expect(double.requests.filter((r) => r.startsWith("GET /v1/environments"))).toHaveLength(1);
    expect(double.requests.some((r) => /^POST \/v1\/(agents|environments)/.test(r))).toBe(false);
    const sessionId = first.handle?.sessionId as string;
    expect(double.session(sessionId)?.metadata).toMatchObject({
      switchboard_session_id: expect.any(String),
    });
  });

  it("uses ids as they are, without listing anything", async () => {
    const outcome = await turn(
      "hi",
      {},
      settingsFor({ agent: "agent_01aaa", environment: "env_01prod" }),
    );
    expect(outcome.error).toBeUndefined();
    expect(double.requests.some((r) => r.startsWith("GET /v1/agents"))).toBe(false);
    expect(double.requests.some((r) => r.startsWith("GET /v1/environments"))).toBe(false);
  });

  it("says plainly when no agent has the name, or several do", async () => {
    const missing = await turn("hi", {}, settingsFor({ agent: "nobody" }));
    expect(errorOf(missing)).toBeInstanceOf(RuntimeError);
    expect(errorOf(missing).retryable).toBe(false);
    expect(errorOf(missing).message).toMatch(/no agent named "nobody".*never creates/);
    const twins = await turn("hi", {}, settingsFor({ agent: "twin" }));
    expect(errorOf(twins).message).toMatch(
      /several agents named "twin" \(agent_01ddd, agent_01eee\)/,
    );
    expect(double.requests.some((r) => r.startsWith("POST /v1/sessions"))).toBe(false);
  });

  it("refuses to retry with an API key the API refused, and never shows the key", async () => {
    const outcome = await turn("hi", { env: { CMA_TEST_KEY: "sk-ant-wrong-key" } });
    const error = errorOf(outcome);
    expect(error.code).toBe(RUNTIME_ERROR_CODES.rejected);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/Anthropic API key for this agent was refused/);
    expect(error.message).not.toContain("sk-ant");
    expect(outcome.events).toEqual([]);
  });

  it("fails clearly when the key's reference is not available, before calling the API", async () => {
    const outcome = await collectTurn(
      runtime,
      settingsFor({ api_key: { env: "CMA_NOT_SET_ANYWHERE" } }),
      {
        sessionId: randomUUID(),
        input: "hi",
      },
    );
    expect(errorOf(outcome).code).toBe(RUNTIME_ERROR_CODES.missingSecret);
    expect(errorOf(outcome).message).toMatch(
      /\{ env: CMA_NOT_SET_ANYWHERE \}, which is not available to this agent/,
    );
    expect(double.requests).toEqual([]);
  });

  it("reports the agent's own failure as not retryable, in its words", async () => {
    double.scriptNextTurns({
      kind: "error",
      message: "The model request failed: context too long",
    });
    const outcome = await turn("do the thing");
    const error = errorOf(outcome);
    expect(error.code).toBe(RUNTIME_ERROR_CODES.agentFailed);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /gave up after repeated errors: The model request failed: context too long/,
    );
    expect(outcome.events).toContainEqual(
      expect.objectContaining({ type: "status", status: "retrying" }),
    );
    expect(outcome.events.some((event) => event.type === "message")).toBe(false);
  });

  it("shows the agent's tool use in the timeline, apart from the answer", async () => {
    double.scriptNextTurns({ kind: "tool", name: "bash", input: { command: "ls /mnt" } });
    const outcome = await turn("list the files");
    expect(outcome.error).toBeUndefined();
    const toolAt = outcome.events.findIndex((event) => event.type === "tool_use");
    const messageAt = outcome.events.findIndex((event) => event.type === "message");
    expect(outcome.events[toolAt]).toEqual({
      type: "tool_use",
      name: "bash",
      input: { command: "ls /mnt" },
      id: expect.stringMatching(/^sevt_/),
    });
    expect(toolAt).toBeLessThan(messageAt);
    expect(outcome.text).toBe('You said "list the files" (turn 1)');
  });

  it("reports each turn's tokens, model and list cost (the session's cost grows; each turn pays its part)", async () => {
    const sessionId = randomUUID();
    const first = await turn("one", { sessionId });
    const second = await turn("two", { sessionId, handle: first.handle });
    for (const outcome of [first, second]) {
      const usage = outcome.events.find((event) => event.type === "usage");
      expect(usage).toEqual({
        type: "usage",
        usage: {
          model: DOUBLE_MODEL,
          inputTokens: 41,
          outputTokens: 5,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: CENTS_PER_TURN / 100,
        },
      });
    }
    expect(second.text).toBe('You said "two" (turn 2)');
  });

  it("interrupts the agent once when the run is cancelled, and shows no answer", async () => {
    double.holdTurns();
    const controller = new AbortController();
    const pending = turn("a long task", { signal: controller.signal });
    await eventually(async () => expect(double.turns()).toHaveLength(1));
    controller.abort();
    const outcome = await pending;
    expect(outcome.error).toBeUndefined();
    expect(outcome.events.some((event) => event.type === "message")).toBe(false);
    await eventually(async () => expect(double.cancellations()).toBe(1));
    const interrupts = double.requests.filter(
      (r) => r.startsWith("POST /v1/sessions/") && r.endsWith("/events"),
    );
    expect(interrupts).toHaveLength(2); // the message, then the interrupt
  });

  it("fails as retryable when the event stream breaks off mid-answer", async () => {
    double.holdTurns();
    const pending = turn("hello");
    await eventually(async () => expect(double.turns()).toHaveLength(1));
    double.forgetSessions();
    const outcome = await pending;
    expect(errorOf(outcome).retryable).toBe(true);
    expect(errorOf(outcome).message).toMatch(/stream closed before the agent finished/);
  });

  it("opens a new session primed with the transcript when the old one terminated", async () => {
    const sessionId = randomUUID();
    double.scriptNextTurns({ kind: "terminate", message: "container crashed" });
    const first = await turn("first", { sessionId });
    expect(errorOf(first).code).toBe(RUNTIME_ERROR_CODES.agentFailed);
    expect(errorOf(first).message).toMatch(/session ended: container crashed/);
    const second = await turn("second", {
      sessionId,
      handle: first.handle,
      transcript: [{ role: "user", content: "first" }],
    });
    expect(second.error).toBeUndefined();
    expect(second.events).toContainEqual(expect.objectContaining({ status: "session_restarted" }));
    expect(second.events[0]).toEqual({ type: "handle", handle: { sessionId: expect.any(String) } });
    expect(second.handle).not.toEqual(first.handle);
    expect(double.turns().at(-1)?.text).toMatch(/User: first[\s\S]*second$/);
  });

  it("fails without retrying when the stream carries something that is not an event", async () => {
    double.scriptNextTurns({ kind: "garbage" });
    const outcome = await turn("hello");
    expect(errorOf(outcome).code).toBe(RUNTIME_ERROR_CODES.badResponse);
    expect(errorOf(outcome).retryable).toBe(false);
    expect(errorOf(outcome).message).toMatch(/sent an event Switchboard could not read/);
  });

  it("says which agent or environment was missing when the API has no such id", async () => {
    const outcome = await turn(
      "hi",
      {},
      settingsFor({ agent: "agent_01gone", environment: "env_01prod" }),
    );
    expect(errorOf(outcome).retryable).toBe(false);
    expect(errorOf(outcome).message).toMatch(
      /could not find agent agent_01gone or environment env_01prod/,
    );
  });

  it("archives the session when Switchboard closes it, and shrugs at one already gone", async () => {
    const first = await turn("hi");
    const settings = runtime.settings.parse(settingsFor());
    const secrets = allowedEnvironment(env, Object.keys(env));
    await runtime.closeSession(settings, first.handle ?? {}, secrets);
    expect(double.session(first.handle?.sessionId as string)?.archived).toBe(true);
    await runtime.closeSession(settings, { sessionId: "sesn_unknown" }, secrets);
    const next = await turn("again", {
      handle: first.handle,
      transcript: [{ role: "user", content: "hi" }],
    });
    expect(next.events).toContainEqual(expect.objectContaining({ status: "session_restarted" }));
  });

  it("sets the session's budget from the run's limit, and moves it on each run to the spend so far plus the limit", async () => {
    const sessionId = randomUUID();
    const first = await turn("one", { sessionId, maxCostUsdPerRun: 0.25 });
    expect(first.error).toBeUndefined();
    const id = first.handle?.sessionId as string;
    // Created with the cap: whole cents, as a string.
    expect(double.session(id)?.budgetCents).toBe(25);
    const second = await turn("two", { sessionId, handle: first.handle, maxCostUsdPerRun: 0.25 });
    expect(second.error).toBeUndefined();
    // The first run spent CENTS_PER_TURN: this run may spend its own 25 cents on top.
    expect(double.session(id)?.budgetCents).toBe(CENTS_PER_TURN + 25);
    const updates = double.requests.filter((r) => r === `POST /v1/sessions/${id}`);
    expect(updates).toHaveLength(1);
    // The agent's limit went away: so does the session's cap.
    const third = await turn("three", { sessionId, handle: first.handle });
    expect(third.error).toBeUndefined();
    expect(double.session(id)?.budgetCents).toBeUndefined();
  });

  it("sends no budget when the agent sets no per-run limit", async () => {
    const outcome = await turn("hi");
    expect(outcome.error).toBeUndefined();
    expect(double.session(outcome.handle?.sessionId as string)?.budgetCents).toBeUndefined();
    expect(double.requests.filter((r) => /^POST \/v1\/sessions\/[^/]+$/.test(r))).toEqual([]);
  });

  it("fails the run as cost_limit, in words, when the session stops at its budget", async () => {
    // Three model requests at CENTS_PER_TURN each against a 5-cent cap: stopped at the third.
    double.scriptNextTurns({ kind: "costly", requests: 3 });
    const outcome = await turn("research everything", { maxCostUsdPerRun: 0.05 });
    const error = errorOf(outcome);
    expect(error.code).toBe("cost_limit");
    expect(error.code).toBe(RUNTIME_ERROR_CODES.costLimit);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'The run was stopped: it reached the $0.05 "contract-agent" may spend on one run (max_cost_usd_per_run), and Claude Managed Agents stopped the agent there.',
    );
    expect(outcome.events.some((event) => event.type === "message")).toBe(false);
    // What the session spent is still reported, to be booked to the run.
    expect(outcome.events.find((event) => event.type === "usage")).toMatchObject({
      usage: { costUsd: (2 * CENTS_PER_TURN) / 100 },
    });
    // The paused work is dropped, so raising the cap for the next run does not resume it.
    await eventually(async () => expect(double.cancellations()).toBe(1));
  });

  it("refuses settings with the key itself, a bad URL or a version below 1, saying why", () => {
    const check = (extra: Record<string, unknown>) =>
      runtime.settings
        .safeParse(settingsFor(extra))
        .error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(check({ api_key: KEY })?.[0]).toMatch(
      /^api_key: must be a reference such as \{ env: ANTHROPIC_API_KEY \}/,
    );
    expect(check({ base_url: "ftp://example.com" })?.[0]).toMatch(
      /^base_url: must be an http\(s\) URL/,
    );
    expect(check({ agent_version: 0 })?.[0]).toMatch(/^agent_version: must be a whole number/);
    expect(check({ agent: " " })?.[0]).toMatch(/^agent: must be the agent's id/);
    expect(check({ model: "x" })?.[0]).toMatch(/model/);
    expect(runtime.settings.safeParse(settingsFor({ agent_version: 3 })).success).toBe(true);
  });
});
