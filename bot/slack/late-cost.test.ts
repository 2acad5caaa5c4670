import { webApi } from "@slack/bolt";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type SlackArgs,
  type SlackCall,
  SlackWebApiDouble,
} from "../../test/doubles/slack-web-api.js";
import { eventually } from "../../test/support/eventually.js";
import type { ChatCore } from "../chat/index.js";
import { type ChatFixture, PUBLIC_URL, useChatFixture } from "../chat/testing/chat-fixture.js";
import type { SlackConversation } from "./slack-deps.js";
import { SlackSurface } from "./slack-surface.js";

/**
 * A Slack reply's cost line follows the run's one figure: proxy spend booked to the run
 * after its answer was posted edits the answer's message (chat.update on its ts) to the new
 * cost; nothing is edited when the figure did not change; an edit Slack refuses is logged
 * and made at the next check. Real chat core, database and runs engine; Slack is its Web
 * API double.
 */
const BOT_TOKEN = "xoxb-test-late-cost";
const fixture = useChatFixture();
let chat: ChatFixture;
let slack: SlackWebApiDouble;
let core: ChatCore<SlackConversation>;
const warnings: string[] = [];
let thread = 0;

beforeAll(async () => {
  chat = fixture();
  slack = await SlackWebApiDouble.start({ botToken: BOT_TOKEN });
  const client = new webApi.WebClient(BOT_TOKEN, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
  });
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
  // Rechecks at 0.4 s and 1.2 s after the answer, instead of 3 s and 15 s.
  core = chat.openCore(new SlackSurface(client), { costRechecksMs: [400, 1_200], logger });
});

afterEach(() => {
  slack.verify();
  slack.reset();
  warnings.length = 0;
});

afterAll(async () => {
  await slack?.close();
});

/** What a reply may call: the working message, streaming (refused here), updates. */
function allowReplies(): void {
  slack.allow(
    "assistant.threads.setStatus",
    "chat.postMessage",
    "chat.startStream",
    "chat.appendStream",
    "chat.stopStream",
    "chat.delete",
    "chat.update",
  );
}

/** Carol asks vpn-helper in a new thread; answers the answer's chat.update and the run's id. */
async function askAndWaitForAnswer(team = "T0001"): Promise<{ answer: SlackCall; runId: string }> {
  thread += 1;
  const target = { team, channel: "C0LATE", threadTs: `1700000000.00${thread}` };
  const principal = chat.people.get("carol");
  if (!principal) throw new Error("no carol");
  await core.flow.run({
    principal,
    askerRef: "UCAROL",
    agentName: "vpn-helper",
    text: `my VPN drops, take ${thread}`,
    conversation: { threadKey: `T0001:C0LATE:${target.threadTs}`, target },
    deliveryId: `late-cost-${thread}`,
  });
  const answer = await eventually(async () => {
    const found = answersIn("C0LATE").find(
      (call) =>
        String(call.args.blocks?.[0]?.text).includes(`take ${thread}`) ||
        (call.method === "chat.stopStream" && call.args.ts === streamedIn(target.threadTs)),
    );
    if (!found) throw new Error("no answer yet");
    return found;
  });
  const sessionId = footerOf(answer.args).match(/\/sessions\/([0-9a-f-]+)\|/)?.[1] ?? "";
  const { runs } = await chat.runs.session(principal, sessionId);
  return { answer, runId: runs[0]?.id ?? "" };
}

/** Calls that show an answer with its footer (chat.update, or closing a stream), in a channel. */
function answersIn(channel: string): SlackCall[] {
  return slack.calls.filter(
    (call) =>
      ["chat.update", "chat.stopStream"].includes(call.method) &&
      call.args.channel === channel &&
      Array.isArray(call.args.blocks),
  );
}

/** The ts of the stream started in a thread, if one was. */
function streamedIn(threadTs: string): string | undefined {
  const started = slack
    .callsOf("chat.startStream")
    .find((call) => call.args.thread_ts === threadTs);
  return started?.response?.ts;
}

function footerOf(args: SlackArgs): string {
  return String(args.blocks?.at(-1)?.elements?.[0]?.text ?? "");
}

function editsOf(ts: string, after: SlackCall): SlackCall[] {
  return answersIn("C0LATE").filter(
    (call) => call.args.ts === ts && call.at >= after.at && call !== after,
  );
}

describe("a Slack reply's cost after late proxy spend", () => {
  it("edits the answer's cost line when the run's proxy spend lands after it was posted", async () => {
    allowReplies();
    const { answer, runId } = await askAndWaitForAnswer();
    // The demo agent reports no cost of its own: the answer shows none yet.
    expect(footerOf(answer.args)).toMatch(
      new RegExp(
        `^\\*vpn-helper\\*  ·  <${PUBLIC_URL}/sessions/[0-9a-f-]+\\|View on Switchboard>$`,
      ),
    );
    // The proxy's batch with the run's last model call lands after the run ended.
    await chat.bookLateProxySpend(runId, 0.0123);
    const edit = await eventually(async () => {
      const [found] = editsOf(answer.args.ts, answer);
      if (!found) throw new Error("not edited yet");
      return found;
    });
    expect(footerOf(edit.args)).toMatch(
      /^\*vpn-helper\* {2}· {2}\$0\.01 {2}· {2}<.*\|View on Switchboard>$/,
    );
    // The same answer, only the cost changed.
    expect(edit.args.blocks[0]).toEqual(answer.args.blocks[0]);
    expect(edit.args.text).toBe(answer.args.text);
    // The run (what the API and the site show) has the same figure.
    expect((await chat.runs.runById(runId))?.costUsd).toBeCloseTo(0.0123, 8);
    // Edited once: the later check finds the figure shown.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(editsOf(answer.args.ts, answer)).toHaveLength(1);
  });

  it("edits a streamed answer's message the same way", async () => {
    allowReplies();
    slack.setStreaming(true);
    try {
      // A workspace not yet refused streaming by the tests before.
      const { answer, runId } = await askAndWaitForAnswer("T0STREAM");
      expect(answer.method).toBe("chat.stopStream");
      await chat.bookLateProxySpend(runId, 0.5);
      const edit = await eventually(async () => {
        const found = slack.callsOf("chat.update").find((call) => call.args.ts === answer.args.ts);
        if (!found) throw new Error("not edited yet");
        return found;
      });
      expect(footerOf(edit.args)).toContain("$0.50");
      expect(String(edit.args.blocks[0].text)).toContain(`take ${thread}`);
    } finally {
      slack.setStreaming(false);
    }
  });

  it("edits nothing when the cost did not change", async () => {
    allowReplies();
    const { answer } = await askAndWaitForAnswer();
    // Past both checks.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect(editsOf(answer.args.ts, answer)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("logs an edit Slack refuses, and makes it at the next check", async () => {
    allowReplies();
    let refusals = 1;
    slack.on("chat.update", (args) => {
      if (footerOf(args).includes("$") && refusals > 0) {
        refusals -= 1;
        return { ok: false, error: "ratelimited" };
      }
      return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
    });
    const { answer, runId } = await askAndWaitForAnswer();
    await chat.bookLateProxySpend(runId, 0.25);
    const edit = await eventually(async () => {
      const done = editsOf(answer.args.ts, answer).filter((call) => call.response?.ok);
      if (done.length === 0) throw new Error("not edited yet");
      return done[0] as SlackCall;
    });
    expect(footerOf(edit.args)).toContain("$0.25");
    const refused = editsOf(answer.args.ts, answer).filter((call) => !call.response?.ok);
    expect(refused).toHaveLength(1);
    expect(warnings.join("\n")).toMatch(/could not edit the chat reply's cost/);
    expect(warnings.join("\n")).toContain(runId);
  });
});
