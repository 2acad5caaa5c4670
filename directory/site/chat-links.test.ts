import { describe, expect, it } from "vitest";
import { chatLinks } from "./chat-links.js";

describe("chatLinks", () => {
  it("links Slack's app_redirect to the app, in the configured workspace", () => {
    const links = chatLinks({ slackAppId: "A123ABC456", slackTeamId: "T024BE7LD" });
    expect(links.slack?.("demo")).toBe(
      "https://slack.com/app_redirect?app=A123ABC456&team=T024BE7LD",
    );
    expect(chatLinks({ slackAppId: "A1" }).slack?.("demo")).toBe(
      "https://slack.com/app_redirect?app=A1",
    );
  });

  it("links a Teams chat with the bot", () => {
    const links = chatLinks({ teamsAppId: "b9cc7986-dd56-4b57-ab7d-9c4e5288b775" });
    expect(links.teams?.("demo")).toBe(
      "https://teams.microsoft.com/l/chat/0/0?users=28:b9cc7986-dd56-4b57-ab7d-9c4e5288b775",
    );
  });

  it("leaves out what is not configured (a team id alone makes no Slack link)", () => {
    const links = chatLinks({ slackTeamId: "T024BE7LD" });
    expect(links.slack).toBeUndefined();
    expect(links.teams).toBeUndefined();
  });
});
