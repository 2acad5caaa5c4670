import { describe, expect, it } from "vitest";
import { quoteBlocks, wordsMessage } from "./slack-surface.js";

/** People's words beside Switchboard's, in Slack: plain_text, escaped, never mrkdwn. */
describe("quotes in Slack messages", () => {
  const hostile = "<!channel> [x](javascript:alert(1)) *bold* _it_ <@U1> & \u202Etxt.exe";

  it("puts each in a plain_text section, control characters escaped and bidi controls gone", () => {
    expect(quoteBlocks([{ label: "Reason", text: hostile }])).toEqual([
      {
        type: "section",
        text: {
          type: "plain_text",
          text: "Reason: &lt;!channel&gt; [x](javascript:alert(1)) *bold* _it_ &lt;@U1&gt; &amp; txt.exe",
          emoji: false,
        },
      },
    ]);
  });

  it("keeps them out of the notification text, which carries only Switchboard's words", () => {
    const message = wordsMessage("Someone asks to run **ledger**.", [
      { label: "Reason", text: hostile },
    ]);
    expect(message.text).toBe("Someone asks to run *ledger*.");
    expect(message.blocks?.[0]).toEqual({
      type: "section",
      text: { type: "mrkdwn", text: "Someone asks to run *ledger*." },
    });
    expect(JSON.stringify(message)).not.toContain("<!channel>");
  });

  it("is plain words alone without quotes", () => {
    expect(wordsMessage("Hi **there**")).toEqual({ text: "Hi *there*" });
  });
});
