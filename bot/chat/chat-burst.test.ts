import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { TURNS_AT_ONCE } from "./chat-flow.js";
import type { IncomingChatMessage } from "./chat-message.js";
import { type ChatFixture, useChatFixture } from "./testing/chat-fixture.js";
import type { Room } from "./testing/recording-surface.js";

/**
 * A burst of messages through the chat flow on real parts (PostgreSQL, the authorizer,
 * the runs engine): what the people in it would see.
 */
const fixture = useChatFixture();
let chat: ChatFixture;
beforeAll(() => {
  chat = fixture();
});

function held() {
  let release: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe("a burst of chat messages", { timeout: 60_000 }, () => {
  it("shows every message a sign of life at once, answers each once, and starts them in order of arrival", async () => {
    const count = 3 * TURNS_AT_ONCE;
    const noticed: string[] = [];
    const slowPartStarted: number[] = [];
    // The first turns' lookups of who wrote hang until released: the rest stay in line.
    const stuck = held();
    const messages: IncomingChatMessage<Room>[] = [];
    for (let i = 0; i < count; i++) {
      const room = `burst-${i}`;
      const message = chat.message("carol", room, `vpn-helper question ${i}`);
      const person = message.from.person;
      messages.push({
        ...message,
        from: {
          ...message.from,
          person: async () => {
            slowPartStarted.push(i);
            if (i < TURNS_AT_ONCE) await stuck.promise;
            return person();
          },
        },
        notice: async () => {
          noticed.push(room);
        },
      });
    }
    // Slack delivers a mention twice (app_mention and message) and retries: a few repeats.
    const repeats = [messages[1], messages[TURNS_AT_ONCE + 2], messages[count - 1]].map(
      (message) => ({ ...(message as IncomingChatMessage<Room>) }),
    );
    const handled = [...messages, ...repeats].map((message) => chat.flow.handle(message));

    // Every message has its sign of life while the first turns are still stuck.
    await eventually(async () => expect(noticed).toHaveLength(count));
    expect(new Set(noticed).size).toBe(count);
    expect(slowPartStarted).toEqual([...Array(TURNS_AT_ONCE).keys()]);
    const begun = chat.surface.shown.filter(
      (entry) => entry.room.startsWith("burst-") && "reply" in entry,
    );
    expect(begun).toEqual([]);

    stuck.release();
    await Promise.all(handled);
    // The slow parts started in the order the messages came, the repeats never.
    expect(slowPartStarted).toEqual([...Array(count).keys()]);
    await eventually(async () => {
      for (let i = 0; i < count; i++) {
        const finished = chat.surface
          .in(`burst-${i}`)
          .filter((entry) => "reply" in entry && entry.reply === "finish");
        expect(finished, `burst-${i}`).toHaveLength(1);
      }
    }, 30_000);
    // One run each, nothing lost and nothing twice.
    const runs = await chat.db
      .knex("runs")
      .join("sessions", "sessions.id", "runs.session_id")
      .where("sessions.conversation_key", "like", "channel-1:burst-%")
      .select("sessions.conversation_key as key");
    expect(runs.map((run) => run.key).sort()).toEqual(
      messages.map((message) => message.threadKey).sort(),
    );
    expect(noticed).toHaveLength(count);
  });

  it("shows no sign of life on a message not addressed to the bot in a thread it is not in", async () => {
    let noticed = 0;
    await chat.flow.handle({
      ...chat.message("carol", "quiet-room", "just chatting", { mentioned: false }),
      notice: async () => {
        noticed += 1;
      },
    });
    expect(noticed).toBe(0);
    expect(chat.surface.in("quiet-room")).toEqual([]);
  });
});
