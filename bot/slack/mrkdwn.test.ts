import { describe, expect, it } from "vitest";
import { agentMarkdown, escapeMrkdwn, fitRendered, settledAgentMarkdown } from "./mrkdwn.js";

/** What Slack would read as its own markup: broadcasts, mentions, links with a label. */
const SLACK_MARKUP = /<[!@#]|<[a-z]+:[^>]*\|/i;

describe("escapeMrkdwn", () => {
  it.each([
    ["<!channel> look", "&lt;!channel&gt; look"],
    ["<!here>", "&lt;!here&gt;"],
    ["<!everyone>", "&lt;!everyone&gt;"],
    ["hi <@U0ADMIN>", "hi &lt;@U0ADMIN&gt;"],
    ["see <#C0GENERAL>", "see &lt;#C0GENERAL&gt;"],
    ["<!subteam^S123>", "&lt;!subteam^S123&gt;"],
    ["<https://evil.example|your bank>", "&lt;https://evil.example|your bank&gt;"],
    ["fish &amp; chips & more", "fish &amp;amp; chips &amp; more"],
  ])("escapes %j", (text, escaped) => {
    expect(escapeMrkdwn(text)).toBe(escaped);
    expect(escapeMrkdwn(text)).not.toMatch(SLACK_MARKUP);
  });
});

describe("bidi control characters", () => {
  it("are removed, so a right-to-left override cannot reverse a title or what follows it", () => {
    expect(escapeMrkdwn("Invoice \u202Etxt.exe")).toBe("Invoice txt.exe");
    expect(agentMarkdown("run \u2067this\u2069 now")).toBe("run this now");
  });
});

describe("agentMarkdown", () => {
  it("leaves no broadcast or mention an agent writes", () => {
    const shown = agentMarkdown("<!channel> <!here> <@U0ADMIN> <#C0GENERAL> <!subteam^S1>");
    expect(shown).toBe(
      "&lt;!channel&gt; &lt;!here&gt; &lt;@U0ADMIN&gt; &lt;#C0GENERAL&gt; &lt;!subteam^S1&gt;",
    );
  });

  it("shows the address of a Slack masked link, and of a Markdown link or image", () => {
    expect(agentMarkdown("click <https://evil.example|your bank>")).toBe(
      "click your bank (https://evil.example)",
    );
    expect(agentMarkdown("[bank](https://evil.example) now")).toBe(
      "bank (https://evil.example) now",
    );
    expect(agentMarkdown('[bank](https://evil.example "Your bank")')).toBe(
      "bank (https://evil.example)",
    );
    expect(agentMarkdown("![logo](https://evil.example/pixel.png)")).toBe(
      "logo (https://evil.example/pixel.png)",
    );
    expect(agentMarkdown("<https://example.com/docs>")).toBe("https://example.com/docs");
    expect(agentMarkdown("[https://example.com](https://example.com)")).toBe("https://example.com");
  });

  it("never makes a link of another scheme: it is shown as code", () => {
    expect(agentMarkdown("[free money](javascript:alert(1))")).toBe(
      "free money (`javascript:alert(1)`)",
    );
    expect(agentMarkdown("[write us](mailto:evil@example.com)")).toBe(
      "write us (`mailto:evil@example.com`)",
    );
    expect(agentMarkdown("<mailto:evil@example.com|support>")).toBe(
      "support (`mailto:evil@example.com`)",
    );
  });

  it("escapes brackets, so a reference link cannot be formed", () => {
    const shown = agentMarkdown("[your bank][1]\n\n[1]: https://evil.example");
    expect(shown).toBe("\\[your bank\\]\\[1\\]\n\n\\[1\\]: https://evil.example");
  });

  it("keeps Markdown readable: emphasis, lists, headings and code stay as written", () => {
    const answer =
      "# Steps\n\n1. **Restart** the _router_\n- run `ping <host>`\n\n```sh\necho '<!here>' && ls\n```";
    expect(agentMarkdown(answer)).toBe(
      "# Steps\n\n1. **Restart** the _router_\n- run `ping &lt;host&gt;`\n\n```sh\necho '&lt;!here&gt;' &amp;&amp; ls\n```",
    );
  });

  it("does not read links inside code", () => {
    expect(agentMarkdown("`[bank](https://evil.example)`")).toBe("`[bank](https://evil.example)`");
    expect(agentMarkdown("```\n[bank](https://evil.example)\n```")).toBe(
      "```\n[bank](https://evil.example)\n```",
    );
  });
});

describe("settledAgentMarkdown", () => {
  it("renders a prefix of what the whole answer renders to, however the answer is cut", () => {
    const answer =
      "Hello! Try [the guide](https://example.com/guide) or <https://evil.example|this>.\nRun `make <target>` then\n```\n<!here>\n```\ndone & dusted";
    const whole = agentMarkdown(answer);
    for (let end = 0; end <= answer.length; end += 1) {
      const settled = settledAgentMarkdown(answer.slice(0, end));
      expect(whole.startsWith(settled), `cut at ${end}: ${settled}`).toBe(true);
      expect(settled).not.toMatch(SLACK_MARKUP);
    }
    expect(settledAgentMarkdown(answer)).toBe(whole);
  });

  it("holds back a line's link or code until the line is complete", () => {
    expect(settledAgentMarkdown("see [your bank](https://evil.exa")).toBe("see ");
    expect(settledAgentMarkdown("see [your bank](https://evil.example) ok")).toBe("see ");
    expect(settledAgentMarkdown("see [your bank](https://evil.example) ok\n")).toBe(
      "see your bank (https://evil.example) ok\n",
    );
    expect(settledAgentMarkdown("run `ls")).toBe("run ");
    // A broadcast or a mention cannot become a link: it is sent (escaped) at once.
    expect(settledAgentMarkdown("<!channel> click <https://ev")).toBe("&lt;!channel&gt; click ");
  });
});

describe("fitRendered", () => {
  it("cuts at a line end, never inside an entity, and closes a fence left open", () => {
    expect(fitRendered("aaaa\nbbbb\ncccc", 12)).toBe("aaaa\nbbbb");
    expect(fitRendered(`${"x".repeat(20)}&lt;`, 22)).toBe("x".repeat(20));
    expect(fitRendered("```\ncode\nmore code\nand more", 20)).toBe("```\ncode\nmore code\n```");
    expect(fitRendered("short", 100)).toBe("short");
  });
});
