import { webApi } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackWebApiDouble } from "../../test/doubles/slack-web-api.js";
import { SEEN_REACTION, SeenReactions } from "./seen-reaction.js";

const BOT_TOKEN = "xoxb-test-seen";
let slack: SlackWebApiDouble;
let client: webApi.WebClient;

beforeAll(async () => {
  slack = await SlackWebApiDouble.start({ botToken: BOT_TOKEN });
  client = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
});
afterAll(async () => {
  await slack.close();
});

describe("the 👀 on a message to the bot", () => {
  it("reacts to the message itself, and a reaction already there is no error", async () => {
    const seen = new SeenReactions(client);
    await seen.seen("T1", "C1", "1700000000.000100");
    expect(slack.callsOf("reactions.add").map((call) => call.args)).toEqual([
      expect.objectContaining({
        channel: "C1",
        timestamp: "1700000000.000100",
        name: SEEN_REACTION,
      }),
    ]);
    slack.on("reactions.add", () => ({ ok: false, error: "already_reacted" }));
    await expect(seen.seen("T1", "C1", "1700000000.000100")).resolves.toBeUndefined();
  });

  it("stops asking a workspace whose app lacks the scope, and says so once", async () => {
    slack.reset();
    slack.on("reactions.add", () => ({ ok: false, error: "missing_scope" }));
    const seen = new SeenReactions(client);
    await expect(seen.seen("T2", "C1", "1700000000.000200")).rejects.toThrow(/missing_scope/);
    await seen.seen("T2", "C1", "1700000000.000300");
    expect(slack.callsOf("reactions.add")).toHaveLength(1);
    // Another workspace is still asked.
    slack.on("reactions.add", () => ({ ok: true }));
    await seen.seen("T3", "C1", "1700000000.000400");
    expect(slack.callsOf("reactions.add")).toHaveLength(2);
  });
});
