import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { type ChatFixture, useChatFixture } from "./testing/chat-fixture.js";
import { RecordingSurface } from "./testing/recording-surface.js";

/**
 * A finished reply's cost is checked again after a restart: a process that stopped during
 * the short window after the closing message (deploys do) leaves the reply pending with the
 * cost it showed, and the process that takes it over reads the run's cost once and edits
 * the message when the figure changed. The surface-specific edits (Slack's chat.update,
 * Teams' activity update) are tested against their doubles in bot/slack and bot/teams.
 */
const fixture = useChatFixture();
let chat: ChatFixture;
beforeAll(() => {
  chat = fixture();
});

describe("a reply's late cost across a restart", () => {
  it("is checked once by the process that takes the reply over", async () => {
    // The first process would check a minute after the answer; it stops well before.
    const first = new RecordingSurface();
    const stopping = chat.openCore(first, { costRechecksMs: [60_000] });
    await stopping.flow.handle(chat.message("carol", "restart-1", "vpn-helper my VPN drops"));
    const finished = await eventually(async () => {
      const entry = first
        .in("restart-1")
        .find((shown) => "reply" in shown && shown.reply === "finish");
      if (!entry) throw new Error("not finished yet");
      return entry;
    });
    expect(finished).toMatchObject({ reply: "finish" });
    await stopping.stop();

    const principal = chat.people.get("carol");
    if (!principal) throw new Error("no carol");
    const sessionId = ("text" in finished ? finished.text : "").match(
      /sessions\/([0-9a-f-]+)$/,
    )?.[1];
    const { runs } = await chat.runs.session(principal, sessionId ?? "");
    const runId = runs[0]?.id ?? "";
    await chat.bookLateProxySpend(runId, 0.07);

    // The next process (here the fixture's own core) takes the reply over and edits it once.
    await chat.core.resume();
    const recost = await eventually(async () => {
      const found = chat.surface
        .in("restart-1")
        .filter((shown) => "reply" in shown && shown.reply === "recost");
      expect(found).toHaveLength(1);
      return found;
    });
    expect(recost[0]).toMatchObject({ text: "$0.07" });
    // Nothing else is shown again: the answer itself is not repeated.
    expect(chat.surface.in("restart-1").filter((shown) => "reply" in shown)).toHaveLength(1);
    expect(
      first.in("restart-1").filter((shown) => "reply" in shown && shown.reply === "recost"),
    ).toEqual([]);
  });
});
