import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HeldAgentDouble } from "./doubles/held-agent.js";
import type { SlackCall, SlackWebApiDouble } from "./doubles/slack-web-api.js";
import { eventually } from "./support/eventually.js";
import type { SlackEventSender } from "./support/slack-events.js";
import { agentManifest, SlackHarness } from "./support/slack-harness.js";

/**
 * A Slack thread whose run must wait for a place (the person already has as many runs in
 * progress as RUN_MAX_PER_USER allows) says so, then answers once the run starts.
 */

let agent: HeldAgentDouble;
let harness: SlackHarness;
let slack: SlackWebApiDouble;
let events: SlackEventSender;

beforeAll(async () => {
  // A slow agent: each turn holds until the test lets it answer.
  agent = await HeldAgentDouble.start();
  harness = await SlackHarness.start({
    users: [{ id: "UADA", email: "ada@example.com", name: "Ada" }],
    agents: {
      "slow.yaml": agentManifest({
        name: "slow",
        title: "Slow agent",
        runtime: `    type: http\n    url: ${agent.url}`,
        run: ['"user:*"'],
      }),
    },
    env: { RUN_MAX_PER_USER: "1" },
  });
  ({ slack, events } = harness);
}, 180_000);

afterEach(() => {
  const unexpected = [...slack.unexpected];
  slack.reset();
  expect(unexpected, "Slack Web API calls the test did not expect").toEqual([]);
});

afterAll(async () => {
  await harness?.close();
  await agent?.close();
});

/** The texts a thread's message showed, in order: posted, then each update of it. */
function messageTexts(thread: string): string[] {
  const posted = slack.calls.find(
    (call) => call.method === "chat.postMessage" && call.args.thread_ts === thread,
  ) as SlackCall;
  const ts = posted.response?.ts;
  return [
    posted.args.text,
    ...slack.calls
      .filter((call) => call.method === "chat.update" && call.args.ts === ts)
      .map((call) => call.args.text),
  ];
}

describe("Slack, a run waiting for a place", { timeout: 90_000 }, () => {
  it("tells the thread why it waits, then answers there once it has run", async () => {
    slack.allow(
      "assistant.threads.setStatus",
      "chat.postMessage",
      "chat.startStream",
      "chat.update",
    );
    await events.mention("UADA", "slow ada-1", "1700000001.000100");
    await eventually(async () => expect(agent.held.started).toEqual(["ada-1"]), 30_000);
    await events.mention("UADA", "slow ada-2", "1700000002.000100");
    await eventually(async () => expect(messageTexts("1700000002.000100")).toHaveLength(2), 30_000);
    agent.held.release("ada-1", "ada-2");
    await eventually(async () => {
      expect(messageTexts("1700000002.000100").at(-1)).toContain("done ada-2");
    }, 30_000);
    const second = messageTexts("1700000002.000100");
    expect(second[0]).toBe(":hourglass_flowing_sand: *slow* is working on it…");
    expect(second[1]).toBe(
      ":hourglass: *slow* is waiting to start. You have 1 run in progress, as many as one person may have at once; this one starts when it finishes.",
    );
    expect(second[2]).toBe(":hourglass_flowing_sand: *slow* is working on it…");
    expect(second.at(-1)).toBe("done ada-2");
    // The first thread never waited.
    expect(messageTexts("1700000001.000100").join("\n")).not.toContain("waiting to start");
  });
});
