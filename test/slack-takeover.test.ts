import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SlackCall, SlackWebApiDouble } from "./doubles/slack-web-api.js";
import { eventually } from "./support/eventually.js";
import {
  FAULT_AGENT,
  FAULT_PERSON,
  FaultDeployment,
  type Part,
} from "./support/fault-deployment.js";
import { RedisServer } from "./support/redis-server.js";
import { SlackEventSender } from "./support/slack-events.js";
import { BOT_TOKEN, SIGNING_SECRET } from "./support/slack-harness.js";
import { runSwitchboard } from "./support/switchboard-process.js";

/**
 * Issue 21, a web process killed (`kill -9`) while it streams an answer into a Slack thread:
 * two `serve`s and a `worker` on shared PostgreSQL and Redis, Slack's Web API a local double.
 * The other `serve` takes the reply over once the dead one's hold lapses (CHAT_REPLY_HOLD_MS,
 * short here) and finishes the same "working…" message: the person sees one answer, in
 * place, a few seconds later, not a frozen message for a minute or more.
 */

/** The hold in this test; the reply is renewed, and orphans looked for, every third of it. */
const HOLD_MS = 3_000;
/** The worker finishing the turn, the new holder replaying its events, a loaded machine. */
const MARGIN_MS = 4_000;
/** What replying to a run calls on a workspace without streaming (as in slack.test.ts). */
const REPLYING = [
  "assistant.threads.setStatus",
  "chat.postMessage",
  "chat.startStream",
  "chat.update",
];

let slack: SlackWebApiDouble;
let redis: RedisServer;
let deployment: FaultDeployment;
let serveA: Part;
let serveB: Part;

beforeAll(async () => {
  slack = await SlackWebApiDouble.start({
    botToken: BOT_TOKEN,
    users: [{ id: "UADA", email: FAULT_PERSON, name: "Ada" }],
  });
  redis = await RedisServer.start();
  deployment = await FaultDeployment.start({
    postgres: "shared",
    // About 25 words at 200 ms each: the answer streams for about 5 s.
    delayMs: 200,
    env: {
      REDIS_URL: redis.url,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      CHAT_REPLY_HOLD_MS: String(HOLD_MS),
      RUN_MAX_ATTEMPTS: "1",
    },
  });
  // Ada may pick the agent by its name in chat.
  const featured = await runSwitchboard(["agents", "feature", FAULT_AGENT], deployment.env);
  if (featured.code !== 0) throw new Error(`agents feature failed: ${featured.stderr}`);
  await deployment.startPart("worker");
  serveA = await deployment.startPart("serve");
  serveB = await deployment.startPart("serve");
}, 300_000);

afterAll(async () => {
  await deployment?.close();
  await redis?.stop();
  await slack?.close();
});

/** The closing message: the answer with its link to the site. */
const isAnswer = (call: SlackCall) =>
  JSON.stringify(call.args.blocks ?? "").includes("View on Switchboard");

describe("a web process killed mid-answer in Slack", { timeout: 240_000 }, () => {
  it("has its reply finished in the same message by the other web process, within the hold and a third", async () => {
    slack.allow(...REPLYING);
    const events = new SlackEventSender(
      `${serveA.base}/slack/events`,
      SIGNING_SECRET,
      slack.teamId,
      slack.botUserId,
      slack.responseUrl,
    );
    const thread = "1700000001.000100";
    const sent = await events.mention(
      "UADA",
      `${FAULT_AGENT} tell me about our expense policy in detail`,
      thread,
    );
    expect(sent.response.status).toBe(200);
    const working = await eventually(async () => {
      const [call] = slack.callsOf("chat.postMessage");
      expect(String(call?.args.text)).toContain("working on it");
      return call as SlackCall;
    }, 60_000);
    const workingTs = String(working.response?.ts);
    // serve A is streaming the answer into the working message: words shown, not finished.
    await eventually(async () => {
      const streamed = slack
        .callsOf("chat.update")
        .filter((call) => call.args.ts === workingTs && !isAnswer(call));
      expect(streamed.length).toBeGreaterThan(0);
    }, 30_000);
    serveA.process.signal("SIGKILL");
    const killedAt = Date.now();
    await serveA.process.exited;
    expect(slack.calls.filter(isAnswer)).toEqual([]);

    const answer = await eventually(async () => {
      const call = slack.calls.find(isAnswer);
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 60_000);
    const tookMs = answer.at - killedAt;
    // The same message, finished in place: one post in the thread, one answer.
    expect(answer.method).toBe("chat.update");
    expect(answer.args.ts).toBe(workingTs);
    expect(working.args.thread_ts).toBe(thread);
    expect(JSON.stringify(answer.args.blocks)).toContain(
      "tell me about our expense policy in detail",
    );
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS)); // nothing more comes
    expect(slack.calls.filter(isAnswer)).toHaveLength(1);
    expect(slack.callsOf("chat.postMessage")).toHaveLength(1);
    expect(slack.callsOf("chat.update").every((call) => call.args.ts === workingTs)).toBe(true);
    expect(tookMs, `finished ${tookMs} ms after the kill`).toBeLessThan(
      HOLD_MS + HOLD_MS / 3 + MARGIN_MS,
    );
    expect(serveB.process.exit).toBeUndefined();
    expect(slack.unexpected).toEqual([]);
    expect(deployment.outputProblems()).toEqual([]);
  });
});
