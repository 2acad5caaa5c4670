import { describe, expect, it } from "vitest";
import { buttonsCard } from "./agent-cards.js";
import { readMention } from "./mentions.js";
import {
  escapeCardText,
  escapeTeamsText,
  plainFromTeams,
  teamsMarkdown,
  teamsWords,
} from "./teams-text.js";

const BOT = "28:0b8a3c54-6c1e-4f0e-9b3a-5d1f2e7c9a11";

describe("Teams text", () => {
  it("keeps an agent's Markdown but makes its HTML inert", () => {
    expect(teamsMarkdown("**Done**: see <at>Everyone</at> & <a href='x'>y</a>")).toBe(
      "**Done**: see &lt;at&gt;Everyone&lt;/at&gt; &amp; &lt;a href='x'&gt;y&lt;/a&gt;",
    );
  });

  it("shows a person's words as written, in messages and in cards", () => {
    expect(escapeTeamsText("*not bold* [x](y) <b>")).toBe(
      "\\*not bold\\* \\[x\\]\\(y\\) &lt;b&gt;",
    );
    expect(escapeCardText("*not bold* <b>")).toBe("\\*not bold\\* <b>");
  });

  it("drops bidi controls, so a right-to-left override cannot disguise a name", () => {
    const disguised = "Pay \u202Etxt.exe now";
    for (const shown of [teamsMarkdown(disguised), escapeCardText(disguised)]) {
      expect(shown).toBe("Pay txt.exe now");
    }
  });

  it("reads the text Teams' editor sends as HTML", () => {
    expect(plainFromTeams("<p>Line one</p><p>a &amp; b &lt;3</p>")).toBe("Line one\na & b <3");
  });
});

describe("mentions", () => {
  it("finds the bot's mention by its id and strips it, keeping other people's names", () => {
    const read = readMention(
      {
        text: "<at>Agents</at> helpdesk ask <at>Grace</at> about it",
        entities: [
          { type: "mention", text: "<at>Agents</at>", mentioned: { id: BOT } },
          { type: "mention", text: "<at>Grace</at>", mentioned: { id: "29:1grace" } },
        ],
      },
      BOT,
    );
    expect(read).toEqual({ mentioned: true, text: "helpdesk ask Grace about it" });
  });

  it("is not fooled by the bot's name typed without a mention entity", () => {
    const read = readMention({ text: "<at>Agents</at> helpdesk", entities: [] }, BOT);
    expect(read.mentioned).toBe(false);
  });
});

describe("quotes in Teams messages and cards", () => {
  const hostile = "[x](javascript:alert(1)) *bold* **loud** <at>Alice</at> \u202Etxt.exe";

  it("escapes people's words under Switchboard's Markdown in a message", () => {
    expect(
      teamsWords("Your request to run **ledger** was denied.", [{ label: "Why", text: hostile }]),
    ).toBe(
      "Your request to run **ledger** was denied.\n\n**Why:** \\[x\\]\\(javascript:alert\\(1\\)\\) \\*bold\\* \\*\\*loud\\*\\* &lt;at&gt;Alice&lt;/at&gt; txt.exe",
    );
  });

  it("puts them on a card as escaped text blocks, and a button's prompt as the card's one field", () => {
    const card = buttonsCard(
      "Someone asks to run **ledger**.",
      [
        { label: "Approve", actionId: "a1", style: "primary" },
        {
          label: "Deny",
          actionId: "d1",
          style: "danger",
          prompt: {
            title: "Deny",
            label: "Why not?",
            submit: "Deny",
            optional: true,
            maxLength: 1000,
          },
        },
      ],
      [{ label: "Reason", text: hostile }],
    );
    const body = card.body as { type: string; text?: string; id?: string }[];
    expect(body[0]?.text).toBe("Someone asks to run **ledger**.");
    expect(body[1]?.text).toBe(
      "**Reason:** \\[x\\]\\(javascript:alert\\(1\\)\\) \\*bold\\* \\*\\*loud\\*\\* <at>Alice</at> txt.exe",
    );
    expect(body[2]).toMatchObject({
      type: "Input.Text",
      id: "switchboardInput",
      label: "Why not?",
    });
    expect((card.actions as { data: unknown }[]).map((a) => a.data)).toEqual([
      { switchboardAction: "a1" },
      { switchboardAction: "d1" },
    ]);
  });
});
