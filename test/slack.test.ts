import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackCall, SlackWebApiDouble } from "./doubles/slack-web-api.js";
import { eventually } from "./support/eventually.js";
import { freePort } from "./support/ports.js";
import { SlackEventSender } from "./support/slack-events.js";
import { agentManifest, SIGNING_SECRET, SlackHarness } from "./support/slack-harness.js";
import { SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * Slack from signed events alone: `switchboard serve` with Slack switched on, its Web API
 * client pointed at a local double that records what the thread receives.
 */

let harness: SlackHarness;
let slack: SlackWebApiDouble;
let serve: SwitchboardProcess;
let events: SlackEventSender;
let tsCounter = 0;
const nextTs = () => `1700000${String(++tsCounter).padStart(3, "0")}.000100`;

const everyone = ['"user:*"'];
/** What replying to a run calls on a workspace without streaming. */
const REPLYING = [
  "assistant.threads.setStatus",
  "chat.postMessage",
  "chat.startStream",
  "chat.update",
];

/** What the thread shows: posted and updated texts and blocks, in order. */
function threadTexts(calls: SlackCall[]): string[] {
  return calls
    .filter((call) =>
      [
        "chat.postMessage",
        "chat.update",
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
      ].includes(call.method),
    )
    .map((call) => {
      const blocks = Array.isArray(call.args.blocks) ? call.args.blocks : [];
      const blockText = blocks
        .map((block: { text?: unknown }) =>
          typeof block.text === "string" ? block.text : JSON.stringify(block.text ?? ""),
        )
        .join(" ");
      return `${call.method}: ${call.args.text ?? call.args.markdown_text ?? ""} ${blockText}`.trim();
    });
}

/** serve again, on a new port, with the events sender pointed at it. */
async function startServeAgain(): Promise<void> {
  const port = await freePort();
  serve = new SwitchboardProcess(["serve"], { ...harness.env, PORT: String(port) });
  await serve.waitFor(`http://127.0.0.1:${port}/readyz`, 90_000);
  events = new SlackEventSender(
    `http://127.0.0.1:${port}/slack/events`,
    SIGNING_SECRET,
    events.teamId,
    events.botUserId,
    events.responseUrl,
  );
}

/** The final answers (with their link to the site) the double has received. */
function answers(): SlackCall[] {
  return slack.calls.filter((call) =>
    JSON.stringify(call.args.blocks ?? "").includes("View on Switchboard"),
  );
}

async function finalAnswer(thread: string): Promise<SlackCall> {
  return eventually(async () => {
    const last = [...slack.calls]
      .reverse()
      .find(
        (call) =>
          (call.method === "chat.update" ||
            call.method === "chat.postMessage" ||
            call.method === "chat.stopStream") &&
          (call.args.thread_ts === thread || call.method !== "chat.postMessage") &&
          JSON.stringify(call.args.blocks ?? "").includes("View on Switchboard"),
      );
    expect(last).toBeDefined();
    return last as SlackCall;
  }, 30_000);
}

beforeAll(async () => {
  harness = await SlackHarness.start({
    users: [
      { id: "UADA", email: "ada@example.com", name: "Ada" },
      { id: "UBOB", email: "bob@example.com", name: "Bob" },
      { id: "UNOMAIL", name: "No Mail" },
    ],
    agents: {
      "helpdesk.yaml": agentManifest({
        name: "helpdesk",
        title: "IT helpdesk",
        runtime: "    type: demo\n    delay_ms: 30",
        run: everyone,
      }),
      "restricted.yaml": agentManifest({
        name: "restricted",
        title: "Restricted agent",
        run: ["user:carol@example.com"],
      }),
      "slow.yaml": agentManifest({
        name: "slow",
        title: "Slow agent",
        runtime: "    type: demo\n    delay_ms: 250",
        run: everyone,
      }),
      "broken.yaml": agentManifest({
        name: "broken",
        title: "Broken agent",
        runtime: "    type: http\n    url: http://127.0.0.1:9/agent",
        run: everyone,
      }),
    },
    // Naming an agent picks it for people who use it, their team's, or featured ones.
    commands: [["agents", "feature", "helpdesk", "restricted", "slow", "broken"]],
  });
  ({ slack, serve, events } = harness);
}, 180_000);

afterEach(() => {
  const unexpected = [...slack.unexpected];
  slack.reset();
  expect(unexpected, "Slack Web API calls the test did not expect").toEqual([]);
});

afterAll(async () => {
  // The restart test replaces serve: stop whichever is running, then the rest.
  serve?.signal("SIGTERM");
  await serve?.exited;
  await harness?.close();
});

describe("Slack", { timeout: 90_000 }, () => {
  it("streams the answer where the workspace supports it (first: the bot remembers a workspace without streaming)", async () => {
    slack.setStreaming(true);
    try {
      slack.allow(
        "assistant.threads.setStatus",
        "chat.postMessage",
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
        "chat.delete",
        "chat.update",
      );
      const ts = nextTs();
      await events.mention("UADA", "helpdesk stream this answer to me word by word please", ts);
      const stop = await eventually(async () => {
        const [call] = slack.callsOf("chat.stopStream");
        expect(call).toBeDefined();
        return call as SlackCall;
      }, 30_000);
      const [start] = slack.callsOf("chat.startStream");
      expect(start?.args).toMatchObject({
        channel: "C0GENERAL",
        thread_ts: ts,
        recipient_user_id: "UADA",
        recipient_team_id: slack.teamId,
      });
      const streamed = [start, ...slack.callsOf("chat.appendStream"), stop]
        .map((call) => call?.args.markdown_text ?? "")
        .join("");
      expect(streamed).toBe(
        'You said: "stream this answer to me word by word please". This is turn 1 of our conversation.',
      );
      expect(JSON.stringify(stop.args.blocks)).toContain("View on Switchboard");
    } finally {
      slack.setStreaming(false);
    }
  });

  it("runs the named agent in the mention's thread: a sign of life, then the answer with its cost and a link", async () => {
    slack.allow(...REPLYING);
    const ts = nextTs();
    const { response } = await events.mention("UADA", "helpdesk my VPN keeps dropping", ts);
    expect(response.status).toBe(200);
    const answer = await finalAnswer(ts);
    const texts = threadTexts(slack.calls);
    expect(texts[0]).toMatch(/^chat\.postMessage: .*helpdesk\* is working on it/);
    expect(JSON.stringify(answer.args.blocks)).toContain(
      'You said: \\"my VPN keeps dropping\\". This is turn 1',
    );
    const posts = slack.callsOf("chat.postMessage");
    expect(
      posts.every((call) => call.args.thread_ts === ts && call.args.channel === "C0GENERAL"),
    ).toBe(true);
    expect(JSON.stringify(answer.args.blocks)).toMatch(
      /\/sessions\/[0-9a-f-]{36}\|View on Switchboard/,
    );
  });

  it("continues the thread's session without a new mention, and ignores bots and edits", async () => {
    slack.allow(...REPLYING);
    const thread = nextTs();
    await events.mention("UADA", "helpdesk first question", thread);
    await finalAnswer(thread);
    slack.reset();
    slack.allow(...REPLYING);
    // Noise the bot must not answer: another bot, an edit, a message outside any session.
    await events.message("UBOB", "beep", nextTs(), {
      thread_ts: thread,
      bot_id: "BOTHER",
      subtype: "bot_message",
    });
    await events.message("UADA", "edited", nextTs(), {
      thread_ts: thread,
      subtype: "message_changed",
    });
    await events.message("UADA", "unrelated chatter", nextTs());
    await events.message("UADA", "and a follow-up", nextTs(), { thread_ts: thread });
    const answer = await finalAnswer(thread);
    expect(JSON.stringify(answer.args.blocks)).toContain('\\"and a follow-up\\". This is turn 2');
    expect(slack.callsOf("chat.postMessage")).toHaveLength(1); // one working message, for the follow-up
  });

  it("starts one run for a mention Slack delivers twice and retries", async () => {
    slack.allow(...REPLYING);
    const ts = nextTs();
    const text = "helpdesk reset my password please";
    const first = await events.mention("UADA", text, ts);
    // The same message as a `message` event (another event id), and Slack's retry of the first.
    await events.message("UADA", `<@${slack.botUserId}> ${text}`, ts);
    await events.event(
      {
        type: "app_mention",
        user: "UADA",
        text: `<@${slack.botUserId}> ${text}`,
        ts,
        channel: "C0GENERAL",
      },
      { eventId: first.eventId, retryNum: 1 },
    );
    await finalAnswer(ts);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const working = slack
      .callsOf("chat.postMessage")
      .filter((call) => String(call.args.text).includes("working on it"));
    expect(working).toHaveLength(1);
  });

  it("tells a person who may not run an agent why, and offers to ask its owners", async () => {
    slack.allow("chat.postMessage");
    const ts = nextTs();
    await events.mention("UBOB", "restricted do something", ts);
    const refusal = await slack.firstCall("chat.postMessage");
    expect(refusal.args.thread_ts).toBe(ts);
    expect(refusal.args.text).toMatch(
      /You can see `restricted` but you aren't allowed to run it yet\. Ask its owners with the button below \(or on its page: http.*\/agents\/restricted\)/,
    );
    expect(JSON.stringify(refusal.args.blocks)).toContain('"text":"Request access"');
  });

  it("says when it cannot tell who someone is", async () => {
    slack.allow("chat.postMessage");
    await events.mention("UNOMAIL", "helpdesk hello", nextTs());
    const [call] = await eventually(async () => {
      const calls = slack.callsOf("chat.postMessage");
      expect(calls).toHaveLength(1);
      return calls;
    });
    expect(call?.args.text).toMatch(/couldn't read your email address/);
  });

  it("offers the agents a person may run when the mention names none, and runs the one clicked", async () => {
    slack.allow(...REPLYING);
    const ts = nextTs();
    await events.mention("UBOB", "my laptop VPN is broken", ts);
    const offer = await eventually(async () => {
      const [call] = slack.callsOf("chat.postMessage");
      expect(call?.args.blocks).toBeDefined();
      return call as SlackCall;
    });
    const buttons = (offer.args.blocks as { accessory?: { value: string; action_id: string } }[])
      .map((block) => block.accessory)
      .filter((accessory) => accessory !== undefined);
    const offered = JSON.stringify(offer.args.blocks);
    expect(offered).toContain("`helpdesk`");
    expect(offered).not.toContain("`restricted`"); // Bob may view it but not run it
    expect(buttons.length).toBeGreaterThan(0);
    const helpdeskIndex = (offer.args.blocks as { text?: { text: string } }[])
      .filter((block) => block.text?.text.includes("`"))
      .findIndex((block) => block.text?.text.includes("`helpdesk`"));
    const button = buttons[helpdeskIndex];
    const click = await events.interaction({
      type: "block_actions",
      team: { id: slack.teamId },
      user: { id: "UBOB", team_id: slack.teamId },
      channel: { id: "C0GENERAL" },
      message: { ts: "1800000000.999999", thread_ts: ts },
      container: { type: "message", message_ts: "1800000000.999999", channel_id: "C0GENERAL" },
      trigger_id: "trigger-1",
      actions: [
        {
          type: "button",
          action_id: button?.action_id,
          value: button?.value,
          block_id: "b1",
          action_ts: "1",
        },
      ],
    });
    expect(click.status).toBe(200);
    const answer = await finalAnswer(ts);
    expect(JSON.stringify(answer.args.blocks)).toContain(
      '\\"my laptop VPN is broken\\". This is turn 1',
    );
  });

  it("puts a failed run in the thread in plain words", async () => {
    slack.allow(...REPLYING);
    const ts = nextTs();
    await events.mention("UADA", "broken are you there?", ts);
    const failure = await eventually(async () => {
      const call = slack.calls.find(
        (c) => c.method === "chat.update" && String(c.args.text).includes("couldn't finish"),
      );
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    expect(failure.args.text).toMatch(/\*broken\* couldn't finish: .*could not be reached/);
    expect(failure.args.text).toMatch(/view the run/);
  });

  it("refuses requests with a bad signature or a stale timestamp, and starts nothing", async () => {
    const body = JSON.stringify({
      type: "event_callback",
      event: { type: "app_mention", user: "UADA", text: "hi", ts: nextTs(), channel: "C0GENERAL" },
    });
    const bad = await events.post(body, "application/json", { signature: "v0=deadbeef" });
    expect(bad.status).toBe(401);
    const stale = await events.post(body, "application/json", {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack.calls.filter((call) => call.method !== "auth.test")).toEqual([]);
  });

  it("answers Slack's URL check, and refuses a signed body that is not JSON or is too large", async () => {
    const check = await events.post(
      JSON.stringify({ type: "url_verification", challenge: "c-123", token: "t" }),
      "application/json",
    );
    expect(check.status).toBe(200);
    expect(await check.json()).toEqual({ challenge: "c-123" });
    const garbled = await events.post('{"type": "event_callback", "event": ', "application/json");
    expect(garbled.status).toBe(400);
    expect(await garbled.text()).toContain("not JSON");
    const huge = await events.post(
      JSON.stringify({ type: "event_callback", padding: "x".repeat(1_100_000) }),
      "application/json",
    );
    expect(huge.status).toBe(413);
    // Refusals leave the intake answering.
    const after = await events.post(
      JSON.stringify({ type: "url_verification", challenge: "c-456" }),
      "application/json",
    );
    expect(await after.json()).toEqual({ challenge: "c-456" });
    expect(slack.calls.filter((call) => call.method !== "auth.test")).toEqual([]);
  });

  it("finishes a reply after the web process is killed mid-run and started again", {
    timeout: 240_000,
  }, async () => {
    slack.allow(...REPLYING);
    const ts = nextTs();
    await events.mention("UADA", "slow tell me about our expense policy in detail", ts);
    const working = await eventually(async () => {
      const [call] = slack.callsOf("chat.postMessage");
      expect(String(call?.args.text)).toContain("working on it");
      return call as SlackCall;
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // mid-answer: words come every 250 ms
    serve.signal("SIGKILL");
    await serve.exited;
    const workingTs = slack.calls.find((call) => call.method === "chat.postMessage")?.args;
    await startServeAgain();
    const answer = await eventually(async () => {
      const call = slack.calls.find(
        (c) =>
          c.method === "chat.update" &&
          JSON.stringify(c.args.blocks ?? "").includes("View on Switchboard"),
      );
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 60_000);
    expect(working.args.thread_ts).toBe(ts);
    expect(workingTs).toBeDefined();
    expect(JSON.stringify(answer.args.blocks)).toContain(
      "tell me about our expense policy in detail",
    );
    // One answer: the working message was updated, no second thread reply was posted.
    expect(answers()).toHaveLength(1);
  });

  it("answers every mention it acknowledged when stopped right after a burst of them", {
    timeout: 240_000,
  }, async () => {
    slack.allow(...REPLYING);
    const count = 12;
    const sent = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        events.mention("UADA", `helpdesk question-${i}-of-the-burst`, nextTs()),
      ),
    );
    expect(sent.map(({ response }) => response.status)).toEqual(sent.map(() => 200));
    // A deploy: Slack has its answers and will not send these events again.
    serve.signal("SIGTERM");
    expect((await serve.exited).code).toBe(0);
    await startServeAgain();
    await eventually(async () => {
      const answered = JSON.stringify(answers().map((call) => call.args.blocks));
      const missing = Array.from({ length: count }, (_, i) => `question-${i}-of-the-burst`).filter(
        (words) => !answered.includes(words),
      );
      expect(missing).toEqual([]);
    }, 90_000);
    expect(answers()).toHaveLength(count);
  });
});
