import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorCall, TeamsMember } from "./doubles/bot-connector.js";
import { eventually } from "./support/eventually.js";
import { agentManifest } from "./support/slack-harness.js";
import { type Activity, TEAMS_APP_PASSWORD, TeamsHarness } from "./support/teams-harness.js";

/**
 * Teams' first sign of life on a message to the bot: a typing activity in its chat, sent as
 * soon as the message is claimed, before the slow part (who the person is, the agent, the
 * run) and so before the "working…" card, whatever is in line before it.
 */

const member = (n: number): TeamsMember => ({
  id: `29:1typist${n}`,
  aadObjectId: `6f1c2b9e-0000-4000-8000-${String(n).padStart(12, "0")}`,
  name: `Typist ${n}`,
  email: `typist${n}@example.com`,
});
const ada = member(0);
const BURST = 20;
const burst = Array.from({ length: BURST }, (_, i) => member(i + 1));

let harness: TeamsHarness;
let chats = 0;

/** A mention of the bot in a group chat of its own (typing is per conversation). */
function inNewChat(from: TeamsMember, text: string, mention = true): Activity {
  const activity = harness.message(from, text, { kind: "groupChat", mention });
  return {
    ...activity,
    conversation: { ...activity.conversation, id: `19:chat-${++chats}@thread.v2` },
  };
}

async function answerIn(conversationId: string) {
  return eventually(async () => {
    const answer = harness.connector
      .posted(conversationId)
      .find((call) => String(call.activity?.text ?? "").includes("View on Switchboard"));
    expect(answer).toBeDefined();
    return answer as ConnectorCall;
  }, 60_000);
}

/** Where a call is in the order the connector received them. */
const order = (call: ConnectorCall | undefined) =>
  harness.connector.calls.indexOf(call as ConnectorCall);

beforeAll(async () => {
  harness = await TeamsHarness.start({
    members: [ada, ...burst],
    agents: {
      "helpdesk.yaml": agentManifest({
        name: "helpdesk",
        title: "IT helpdesk",
        runtime: "    type: demo\n    delay_ms: 20",
        run: ['"user:*"'],
      }),
    },
    commands: [["agents", "feature", "helpdesk"]],
    // The sign of life's failures are logged at info.
    env: { LOG_LEVEL: "info" },
  });
}, 180_000);

afterEach(() => {
  harness.verify();
});

afterAll(async () => {
  await harness?.close();
});

describe("Teams' sign of life", () => {
  it("shows the bot typing in a group chat on a mention, before the working card", async () => {
    const activity = inNewChat(ada, "helpdesk my VPN keeps dropping");
    const conversation = activity.conversation.id;
    expect((await harness.post(activity)).status).toBe(200);
    await answerIn(conversation);
    const typing = harness.connector.typing(conversation);
    expect(typing).toHaveLength(1);
    // Exactly what the Bot Connector takes: POST v3/conversations/{id}/activities.
    expect(typing[0]?.activity).toEqual({ type: "typing" });
    expect(typing[0]?.activityId).toBeUndefined();
    const [working] = harness.connector.posted(conversation);
    expect(working?.activity?.text).toContain("is working on it");
    expect(order(typing[0])).toBeLessThan(order(working));
    // Nowhere else.
    expect(harness.connector.typing()).toHaveLength(1);
  });

  it("shows it in a 1:1 chat before the answer's stream starts", async () => {
    const activity = harness.message(ada, "helpdesk reset my password", { kind: "personal" });
    const conversation = activity.conversation.id;
    const before = harness.connector.typing().length;
    expect((await harness.post(activity)).status).toBe(200);
    await answerIn(conversation);
    const typing = harness.connector.typing().slice(before);
    expect(typing.map((call) => call.conversationId)).toEqual([conversation]);
    const [first] = harness.connector.posted(conversation);
    // The stream's first chunk is a typing activity too, but one carrying the stream.
    expect(first?.activity?.entities?.[0]?.type).toBe("streaminfo");
    expect(order(typing[0])).toBeLessThan(order(first));
  });

  it("shows nothing on messages it does not answer, and none in a channel, where Teams shows none", async () => {
    const before = harness.connector.calls.length;
    // Not addressed to the bot, in a chat without a session; and another bot's message.
    expect((await harness.post(inNewChat(ada, "lunch anyone?", false))).status).toBe(200);
    const fromBot = inNewChat(ada, "helpdesk beep");
    expect(
      (await harness.post({ ...fromBot, from: { id: "28:other-bot", name: "Bot" } })).status,
    ).toBe(200);
    // A channel mention is answered; its working card is its first sign.
    const channel = harness.message(ada, "helpdesk printer is jammed", { kind: "channel" });
    expect((await harness.post(channel)).status).toBe(200);
    await answerIn(channel.conversation.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const since = harness.connector.calls.slice(before);
    expect(since.filter((call) => call.method === "typing")).toEqual([]);
    expect(since.filter((call) => call.conversationId === fromBot.conversation.id)).toEqual([]);
    expect(since.every((call) => call.conversationId.startsWith("19:general-channel"))).toBe(true);
  });

  it(`shows each of ${BURST} people at once the bot typing while every slow part waits, then answers all`, async () => {
    // Who each sender is (the roster lookup, inside the slow part) waits: the line is full.
    const release = harness.connector.holdMembers();
    const activities = burst.map((person, i) =>
      harness.message(person, `helpdesk burst question ${i}`, { kind: "personal" }),
    );
    const conversations = activities.map((a) => a.conversation.id as string);
    const sentAt = Date.now();
    try {
      const answers = await Promise.all(activities.map((a) => harness.post(a)));
      expect(answers.map((a) => a.status)).toEqual(activities.map(() => 200));
      await eventually(async () => {
        expect(harness.connector.typing().map((c) => c.conversationId)).toEqual(
          expect.arrayContaining(conversations),
        );
      }, 30_000);
      // Every typing activity came while no message had a working card yet.
      expect(conversations.flatMap((id) => harness.connector.posted(id))).toEqual([]);
    } finally {
      release();
    }
    const typingAt = conversations.map(
      (id) => (harness.connector.typing(id)[0]?.at ?? Number.NaN) - sentAt,
    );
    for (const id of conversations) await answerIn(id);
    for (const id of conversations) {
      expect(harness.connector.typing(id)).toHaveLength(1);
      expect(order(harness.connector.typing(id)[0])).toBeLessThan(
        order(harness.connector.posted(id)[0]),
      );
    }
    console.log(`typing after the burst's writes: max ${Math.max(...typingAt)} ms`);
  }, 120_000);

  it("shows one typing in a chat that gets several mentions at once, and answers each", async () => {
    const first = inNewChat(ada, "helpdesk question one");
    const conversation = first.conversation;
    const more = [2, 3, 4].map((n) => ({
      ...harness.message(ada, `helpdesk question ${n}`, { kind: "groupChat" }),
      conversation,
    }));
    await Promise.all([first, ...more].map((a) => harness.post(a)));
    await eventually(async () => {
      const answers = harness.connector
        .posted(conversation.id)
        .filter((call) => String(call.activity?.text ?? "").includes("View on Switchboard"));
      expect(answers).toHaveLength(4);
    }, 60_000);
    // Teams shows one typing for three seconds; more would only spend the chat's rate limit.
    expect(harness.connector.typing(conversation.id)).toHaveLength(1);
  });

  for (const status of [500, 429] as const) {
    it(`answers when the connector refuses the typing activity (${status}), and logs no token`, async () => {
      harness.connector.refuseTyping(1, status);
      const activity = inNewChat(ada, `helpdesk refused typing ${status}`);
      expect((await harness.post(activity)).status).toBe(200);
      const answer = await answerIn(activity.conversation.id);
      expect(answer.activity?.text).toContain(`refused typing ${status}`);
      expect(harness.connector.typing(activity.conversation.id)[0]?.refused).toBe(status);
      await eventually(async () => {
        const lines = harness.serve.stdout.split("\n");
        const logged = lines.filter((line) => line.includes("could not show a sign of life"));
        expect(logged.some((line) => line.includes(`Bot Connector answered ${status}`))).toBe(true);
      });
      const logs = harness.serve.stdout + harness.serve.stderr;
      for (const token of harness.entra.issued) expect(logs).not.toContain(token);
      expect(logs).not.toContain(TEAMS_APP_PASSWORD);
      expect(logs).not.toMatch(/Bearer /);
    });
  }
});
