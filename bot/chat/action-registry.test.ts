import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import type { ChatActionClick, ChatActionKind } from "./action-registry.js";
import { ChatActions } from "./chat-actions.js";
import { type ChatFixture, useChatFixture } from "./testing/chat-fixture.js";
import type { Shown } from "./testing/recording-surface.js";

/** Buttons and their clicks through the one registry every surface hands clicks to. */
const fixture = useChatFixture();
let chat: ChatFixture;
beforeAll(() => {
  chat = fixture();
});

/** A click by `name` on the button carrying `actionId`, in `room`; what the clicker is told. */
async function click(name: string, actionId: string, room: string): Promise<string[]> {
  const told: string[] = [];
  await chat.clicks.click({
    surface: "teams",
    actionId,
    clickerRef: `ref-${name}`,
    person: async () => chat.person(name),
    replyTarget: { room },
    tell: async (words) => void told.push(words),
    settle: async (words, options) =>
      void chat.surface.shown.push({
        room,
        said: `${options?.byClicker ? `${name} ` : ""}${words}`,
      }),
    native: undefined,
  });
  return told;
}

/** A governance-like kind: team support's admins approve; each approval applies once. */
function approvals(handled: { click: ChatActionClick; payload: Record<string, unknown> }[]) {
  const kind: ChatActionKind = {
    kind: "approve_test",
    singleUse: true,
    async authorize(principal) {
      const admin = await chat.access.can(principal, "admin", "team:support");
      return admin ? undefined : "Only team support's admins may approve this.";
    },
    async handle(click, payload) {
      handled.push({ click, payload });
      await click.settle(`approved ${String(payload.budget)}.`, { byClicker: true });
    },
  };
  return kind;
}

describe("chat actions", () => {
  it("runs a suggested agent for whoever may run it, once, and refuses anyone else in words", async () => {
    await chat.flow.handle(chat.message("carol", "s1", "my vpn drops all the time"));
    const suggestion = chat.surface.in("s1")[0] as Extract<Shown, { suggested: string[] }>;
    const vpn = suggestion.actionIds[suggestion.suggested.indexOf("vpn-helper")] as string;

    // Bob sees the suggestion in the channel but may not run the agent.
    expect(await click("bob", vpn, "s1")).toEqual([
      "You can see `vpn-helper` but you aren't allowed to run it yet. Ask for access on its page: https://switchboard.example.com/agents/vpn-helper",
    ]);
    expect(await click("carol", vpn, "s1")).toEqual([]);
    expect(await click("carol", vpn, "s1")).toEqual([]); // a double click
    const steps = await eventually(async () => {
      const shown = chat.surface.in("s1");
      expect(shown.filter((entry) => "reply" in entry && entry.reply === "finish")).toHaveLength(1);
      return shown;
    });
    expect(steps).toContainEqual({ room: "s1", said: "carol asked **vpn-helper**." });
    expect(steps.at(-1)).toMatchObject({ reply: "finish", user: "ref-carol" });
    expect((steps.at(-1) as { text: string }).text).toMatch(
      /You said: "my vpn drops all the time"/,
    );
  });

  it("hands a registered kind its click with the clicker's principal, once, after checking them", async () => {
    const handled: { click: ChatActionClick; payload: Record<string, unknown> }[] = [];
    chat.clicks.add(approvals(handled));
    await chat.flow.offer({ room: "s2" }, "Approve **$50** more for `vpn-helper`?", [
      { label: "Approve", kind: "approve_test", payload: { budget: "b-1" }, style: "primary" },
    ]);
    const offered = chat.surface.in("s2")[0] as Extract<Shown, { buttons: unknown }>;
    expect(offered.words).toBe("Approve **$50** more for `vpn-helper`?");
    expect(offered.buttons).toMatchObject([{ label: "Approve", style: "primary" }]);
    const id = offered.buttons[0]?.actionId as string;

    expect(await click("carol", id, "s2")).toEqual([
      "Only team support's admins may approve this.",
    ]);
    expect(handled).toEqual([]);
    expect(await click("ada", id, "s2")).toEqual([]);
    expect(await click("ada", id, "s2")).toEqual([]); // applied once
    expect(handled).toHaveLength(1);
    expect(handled[0]?.click.principal.email).toBe("ada@example.com");
    expect(handled[0]?.click.replyTarget).toEqual({ room: "s2" });
    expect(handled[0]?.payload).toEqual({ budget: "b-1" });
    expect(chat.surface.in("s2").at(-1)).toEqual({ room: "s2", said: "ada approved b-1." });
  });

  it("posts a kind's buttons where a run was asked from, and nowhere for a run of no chat", async () => {
    await chat.flow.handle(chat.message("carol", "s4", "expenses lunch with a customer"));
    await eventually(async () =>
      expect(chat.surface.in("s4").at(-1)).toMatchObject({ reply: "finish" }),
    );
    const run = (await chat.db
      .knex("runs")
      .join("sessions", "sessions.id", "runs.session_id")
      .where({ "sessions.conversation_key": "channel-1:s4" })
      .first("runs.id")) as { id: string };
    const buttons = [{ label: "Approve", kind: "approve_test", payload: { run: run.id } }];
    expect(await chat.core.offerForRun(run.id, "Approve this run?", buttons)).toBe(true);
    expect(chat.surface.in("s4").at(-1)).toMatchObject({
      words: "Approve this run?",
      buttons: [{ label: "Approve" }],
    });
    const elsewhere = "00000000-0000-4000-8000-000000000000";
    expect(await chat.core.offerForRun(elsewhere, "Approve this run?", buttons)).toBe(false);
  });

  it("answers 'no longer works' for an unknown id, another surface's button or an unregistered kind", async () => {
    const actions = new ChatActions(chat.db.knex);
    const slacks = await actions.create("slack", "run_agent", { agentName: "vpn-helper" });
    const unknownKind = await actions.create("teams", "retired_kind", {});
    for (const id of ["not-an-id", slacks, unknownKind]) {
      expect(await click("ada", id, "s3")).toEqual([
        "This button no longer works. Mention me again to start over.",
      ]);
    }
    // An unknown person gets the same answer for a stale button, and is refused on a live one.
    const live = await actions.create("teams", "run_agent", { agentName: "vpn-helper" });
    expect(await click("dave", live, "s3")).toEqual([
      "I couldn't find you in Switchboard: ask your admins to add you.",
    ]);
    expect(chat.surface.in("s3")).toEqual([]);
  });
});
