import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { AgentCoreRuntimeDouble } from "./doubles/agentcore-runtime.js";
import type { SlackCall, SlackWebApiDouble } from "./doubles/slack-web-api.js";
import { agentCoreForUserFixture } from "./runtime-contract/bedrock-agentcore-fixture.js";
import { cursorFixture } from "./runtime-contract/cursor-fixture.js";
import { databricksStreamingFixture } from "./runtime-contract/databricks-fixture.js";
import { elasticAgentBuilderFixture } from "./runtime-contract/elastic-agent-builder-fixture.js";
import type { RuntimeFixture } from "./runtime-contract/fixture.js";
import { eventually } from "./support/eventually.js";
import { apiRequest, readJson } from "./support/http.js";
import { SlackHarness } from "./support/slack-harness.js";

/**
 * Issue #18's "done when", in a Slack thread: one `switchboard serve` with Slack switched on
 * (its Web API client on a local double), one agent on each of the four vendor runtimes
 * (each on a local double of its vendor's wire API, built from the contract fixtures), and
 * signed Slack events alone. A mention starts the thread's session; a reply in the thread,
 * without a mention, continues it, and the vendor sees both turns in one of its sessions.
 */

const fixtures: Record<string, () => Promise<RuntimeFixture>> = {
  "cursor-agent": cursorFixture,
  "elastic-agent": elasticAgentBuilderFixture,
  "databricks-agent": databricksStreamingFixture,
  // This one also sends the person's opaque id as runtimeUserId.
  "agentcore-agent": agentCoreForUserFixture,
};
const started: Record<string, RuntimeFixture> = {};
/** What replying to a run calls on a workspace without streaming. */
const REPLYING = [
  "assistant.threads.setStatus",
  "chat.postMessage",
  "chat.startStream",
  "chat.update",
];

let harness: SlackHarness;
let slack: SlackWebApiDouble;
let key: string;
let tsCounter = 0;
const nextTs = () => `1700100${String(++tsCounter).padStart(3, "0")}.000100`;

async function api(method: string, path: string, body?: unknown) {
  const response = await apiRequest(harness.baseUrl, key, method, path, body);
  return { status: response.status, body: await readJson(response) };
}

/** The thread's last message that ends a run (it links to the run on Switchboard). */
async function finalReply(thread: string, count: number): Promise<string> {
  return eventually(async () => {
    const finals = slack.calls.filter(
      (call: SlackCall) =>
        (call.method === "chat.update" ||
          (call.method === "chat.postMessage" && call.args.thread_ts === thread)) &&
        JSON.stringify(call.args).includes("View on Switchboard"),
    );
    expect(finals.length).toBeGreaterThanOrEqual(count);
    return JSON.stringify(finals.at(-1)?.args);
  }, 30_000);
}

beforeAll(async () => {
  const env: Record<string, string> = {};
  const agents: Record<string, string> = {};
  for (const [name, factory] of Object.entries(fixtures)) {
    const fixture = await factory();
    started[name] = fixture;
    Object.assign(env, fixture.env);
    const manifest = {
      apiVersion: "switchboard/v1",
      kind: "Agent",
      metadata: { name, title: fixture.name, owner: "team:platform" },
      spec: { runtime: fixture.settings, access: { view: ["user:*"], run: ["user:*"] } },
    };
    agents[`${name}.yaml`] = stringify(manifest);
  }
  // The fixtures' { env: NAME } references: names the operator allows agents to read.
  env.RUNTIME_ENV_ALLOWLIST = Object.keys(env).join(",");
  harness = await SlackHarness.start({
    users: [{ id: "UADA", email: "ada@example.com", name: "Ada" }],
    agents,
    env,
    commands: [
      ["agents", "feature", ...Object.keys(fixtures)],
      // Ada's API key: the cancel below comes from the API, as a second surface would.
      ["keys", "create", "--user", "ada@example.com"],
    ],
  });
  slack = harness.slack;
  key = harness.commandOutputs.at(-1)?.trim().split("\n").at(-1) ?? "";
}, 200_000);

afterEach(() => {
  const unexpected = [...slack.unexpected];
  slack.reset();
  expect(unexpected, "Slack Web API calls the test did not expect").toEqual([]);
});

afterAll(async () => {
  await harness?.close();
  await Promise.all(Object.values(started).map((fixture) => fixture.close()));
});

describe("the four vendor runtimes in a Slack thread", { timeout: 90_000 }, () => {
  it.each(Object.keys(fixtures))(
    "%s answers a mention and a follow-up in the thread, in one vendor session",
    async (agent) => {
      const double = started[agent]?.double;
      double?.reset();
      slack.allow(...REPLYING);
      const thread = nextTs();
      await harness.events.mention("UADA", `${agent} What is our refund policy?`, thread);
      const first = await finalReply(thread, 1);
      expect(first).toContain("What is our refund policy?");
      expect(first).toMatch(/turn 1\b/);

      // A reply in the thread, with no mention, continues the thread's session.
      await harness.events.message("UADA", "And for digital goods?", nextTs(), {
        thread_ts: thread,
      });
      const second = await finalReply(thread, 2);
      expect(second).toContain("And for digital goods?");
      expect(second).toMatch(/turn 2\b/);
      // Every message the bot posted stayed in the thread.
      for (const post of slack.callsOf("chat.postMessage")) {
        expect(post.args).toMatchObject({ channel: "C0GENERAL", thread_ts: thread });
      }

      const turns = double?.turns() ?? [];
      expect(turns.map((turn) => turn.text).join("\n")).toContain("And for digital goods?");
      expect(turns).toHaveLength(2);
      expect(turns[1]?.runtimeSession).toBe(turns[0]?.runtimeSession);
      expect(double?.unexpected()).toEqual([]);
      if (double instanceof AgentCoreRuntimeDouble) {
        // Ada's opaque id (never her email) on both turns of the thread.
        const [a, b] = double.userIds;
        expect(a).toMatch(/^sb-[0-9a-f]{64}$/);
        expect(b).toBe(a);
      }
    },
  );

  // Databricks Model Serving has no way to stop a request in flight: it is not told.
  it.each(["cursor-agent", "agentcore-agent", "elastic-agent"])(
    "%s: a run cancelled from the API mid-turn is stopped at the vendor, and the thread says so",
    async (agent) => {
      const double = started[agent]?.double;
      if (!double) throw new Error(`the ${agent} fixture has a double`);
      double.reset();
      double.holdTurns();
      slack.allow(...REPLYING);
      const thread = nextTs();
      try {
        await harness.events.mention("UADA", `${agent} Refactor the billing module`, thread);
        // The vendor has the turn (it is working on it) before it is cancelled.
        await eventually(async () => expect(double.turns()).toHaveLength(1), 30_000);
        const running = await eventually(async () => {
          const sessions = await api("GET", `/sessions?agent=${agent}`);
          expect(sessions.status).toBe(200);
          const ids = (sessions.body.items as Array<{ id: string }>).map((item) => item.id);
          for (const id of ids) {
            const detail = await api("GET", `/sessions/${id}`);
            const run = (detail.body.runs as Array<{ id: string; status: string }>).find(
              (candidate) => candidate.status === "running",
            );
            if (run) return run;
          }
          throw new Error(`no running ${agent} run yet`);
        }, 30_000);

        const cancelled = await api("POST", `/runs/${running.id}/cancel`);
        expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(202);
        await eventually(async () => expect(double.cancellations()).toBe(1), 30_000);
        const reply = await finalReply(thread, 1);
        expect(reply).toContain("was stopped before it finished");
        const ended = (await api("GET", `/runs/${running.id}`)).body;
        expect(ended.status).toBe("cancelled");
        // AgentCore's compute until the stop still cost money: booked, never $0.
        if (agent === "agentcore-agent") expect(ended.cost_usd).toBeGreaterThan(0);
      } finally {
        double.releaseTurns();
      }
      expect(double.unexpected()).toEqual([]);
    },
  );
});
