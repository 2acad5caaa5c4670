import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { type ChatFixture, PUBLIC_URL, useChatFixture } from "./testing/chat-fixture.js";
import type { Shown } from "./testing/recording-surface.js";

/**
 * The chat flow on real parts (PostgreSQL, the authorizer, the runs engine), through a
 * surface that records what it is asked to show: what any surface's people would see.
 */
const fixture = useChatFixture();
let chat: ChatFixture;
beforeAll(() => {
  chat = fixture();
});

/** The replies' steps in a room, as "step: text". */
function replies(room: string): string[] {
  return chat.surface
    .in(room)
    .flatMap((entry) => ("reply" in entry ? [`${entry.reply}: ${entry.text}`] : []));
}

/** Waits for the `count`th finished reply in the room. */
async function finished(room: string, count = 1): Promise<string[]> {
  return eventually(async () => {
    const steps = replies(room);
    expect(steps.filter((step) => step.startsWith("finish:"))).toHaveLength(count);
    return steps;
  });
}

function said(room: string): string[] {
  return chat.surface.in(room).flatMap((entry) => ("said" in entry ? [entry.said] : []));
}

describe("the chat flow", () => {
  it("runs the agent a mention names in the thread's session, and the thread continues without one", async () => {
    await chat.flow.handle(chat.message("carol", "r1", "vpn-helper my VPN keeps dropping"));
    const first = await finished("r1");
    expect(first[0]).toBe("begin: vpn-helper is working on it");
    expect(first.at(-1)).toMatch(
      new RegExp(
        `^finish: You said: "my VPN keeps dropping"\\. This is turn 1 .* ${PUBLIC_URL}/sessions/`,
      ),
    );
    const reply = chat.surface.in("r1").find((entry) => "reply" in entry) as Shown & {
      user: string;
    };
    expect(reply.user).toBe("ref-carol"); // addressed to the person who asked

    // No mention: the thread's session goes on, with the same agent.
    await chat.flow.handle(chat.message("carol", "r1", "and on the train?", { mentioned: false }));
    expect((await finished("r1", 2)).at(-1)).toMatch(
      /You said: "and on the train\?"\. This is turn 2/,
    );

    // No mention, in a thread without a session: not for the bot, nothing shown.
    await chat.flow.handle(chat.message("carol", "r1-quiet", "lunch?", { mentioned: false }));
    expect(chat.surface.in("r1-quiet")).toEqual([]);
  });

  it("suggests the agents a person may run when a mention names none, and asks for a request", async () => {
    await chat.flow.handle(chat.message("carol", "r2", "can you file my expense report"));
    const suggestion = chat.surface.in("r2")[0] as Extract<Shown, { suggested: string[] }>;
    expect(suggestion.suggested).toEqual(["expenses", "vpn-helper"]); // the fitting one first
    expect(suggestion.intro).toMatch(/Which agent should take this\?/);
    expect(suggestion.actionIds).toHaveLength(2);

    await chat.flow.handle(chat.message("carol", "r2b", "vpn-helper"));
    expect(said("r2b")).toEqual([
      "What should **vpn-helper** do? Write it after the name, e.g. `@agents vpn-helper summarise this thread`.",
    ]);
  });

  it("refuses in words: an unknown person, one who may run nothing, one who may see but not run", async () => {
    await chat.flow.handle(chat.message("dave", "r3", "vpn-helper hello"));
    expect(said("r3")).toEqual(["I couldn't find you in Switchboard: ask your admins to add you."]);

    // Bob may see vpn-helper but it is not his to pick by name, and he may run nothing.
    await chat.flow.handle(chat.message("bob", "r3b", "vpn-helper hello"));
    expect(said("r3b")).toEqual([
      `You can't run any agents yet. Browse the directory and ask for access: ${PUBLIC_URL}`,
    ]);

    // Featured, it is his to name: starting the run checks his access, and says why not.
    const context = { actor: "system:test" };
    await chat.directory.registry.setFeatured("vpn-helper", true, context);
    try {
      await chat.flow.handle(chat.message("bob", "r3c", "vpn-helper hello"));
    } finally {
      await chat.directory.registry.setFeatured("vpn-helper", false, context);
    }
    expect(said("r3c")).toEqual([
      `You can see \`vpn-helper\` but you aren't allowed to run it yet. Ask for access on its page: ${PUBLIC_URL}/agents/vpn-helper`,
    ]);
    expect(replies("r3c")).toEqual([]);
  });

  it("starts one run for a message delivered several times at once", async () => {
    const message = chat.message("ada", "r4", "expenses a taxi to the airport");
    await Promise.all([1, 2, 3].map(() => chat.flow.handle({ ...message })));
    const steps = await finished("r4");
    expect(steps.filter((step) => step.startsWith("begin:"))).toHaveLength(1);
    const { count } = (await chat.db
      .knex("runs")
      .join("sessions", "sessions.id", "runs.session_id")
      .where({ "sessions.surface": "teams", "sessions.conversation_key": "channel-1:r4" })
      .count({ count: "*" })
      .first()) as { count: string | number };
    expect(Number(count)).toBe(1);
    // Delivered again later (a retry): claimed already, nothing more.
    await chat.flow.handle({ ...message });
    expect(replies("r4")).toEqual(steps);
  });
});
