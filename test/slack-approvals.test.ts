import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackCall, SlackWebApiDouble } from "./doubles/slack-web-api.js";
import { eventually } from "./support/eventually.js";
import type { SlackEventSender } from "./support/slack-events.js";
import { agentManifest, SlackHarness } from "./support/slack-harness.js";

/**
 * A team over its approval budget, in Slack: Ada's run waits (her thread says so), the
 * team's approver gets a direct message with Approve and Deny buttons, and her thread hears
 * the outcome either way. Clicks are signed block_actions against `switchboard serve`; a
 * click by someone who may not approve, and a repeated click, change nothing.
 */

let harness: SlackHarness;
let slack: SlackWebApiDouble;
let events: SlackEventSender;
let tsCounter = 0;
const nextTs = () => `1700100${String(++tsCounter).padStart(3, "0")}.000100`;

/** What a run's reply and an approval request call on a workspace without streaming. */
const ALLOWED = [
  "assistant.threads.setStatus",
  "chat.postMessage",
  "chat.startStream",
  "chat.update",
  "chat.postEphemeral",
  "response_url",
  "users.lookupByEmail",
];

const texts = (calls: SlackCall[]) =>
  calls.map((call) => `${call.args.text ?? ""} ${JSON.stringify(call.args.blocks ?? "")}`);

beforeAll(async () => {
  harness = await SlackHarness.start({
    users: [
      { id: "UADA", email: "ada@example.com", name: "Ada" },
      { id: "UALICE", email: "alice@example.com", name: "Alice" },
      { id: "UMAL", email: "mallory@example.com", name: "Mallory" },
    ],
    agents: {
      "writer.yaml": agentManifest({
        name: "writer",
        title: "Writer",
        runtime: "    type: demo\n    delay_ms: 10",
        owner: "team:research",
        run: ['"user:*"'],
      }),
      "notes.yaml": agentManifest({
        name: "notes",
        title: "Notes",
        runtime: "    type: demo\n    delay_ms: 10",
        owner: "team:ops",
        run: ['"user:*"'],
      }),
    },
    commands: [
      ["agents", "feature", "writer", "notes"],
      ["authz", "grant", "alice@example.com", "admin", "team:ops"],
      ["budgets", "set", "team:ops", "--period", "month", "--amount", "0.10", "--mode", "notify"],
      ["authz", "grant", "alice@example.com", "admin", "team:research"],
      ["authz", "grant", "mallory@example.com", "member", "team:research"],
      [
        "budgets",
        "set",
        "team:research",
        "--period",
        "month",
        "--amount",
        "0.10",
        "--mode",
        "approval",
      ],
    ],
  });
  ({ slack, events } = harness);
}, 180_000);

afterEach(() => {
  const unexpected = [...slack.unexpected];
  slack.reset();
  expect(unexpected, "Slack Web API calls the test did not expect").toEqual([]);
});

afterAll(async () => {
  await harness?.close();
});

/** Ada asks in a new thread; answers the thread and the approval request Alice received. */
async function askOverBudget(request: string) {
  const thread = nextTs();
  await events.mention("UADA", `writer ${request}`, thread);
  const waiting = await eventually(async () => {
    const call = slack
      .callsOf("chat.postMessage")
      .concat(slack.callsOf("chat.update"))
      .find((c) => String(c.args.text ?? "").includes("waits for an approver"));
    expect(call).toBeDefined();
    return call as SlackCall;
  }, 30_000);
  const dm = await eventually(async () => {
    const call = slack.callsOf("chat.postMessage").find((c) => c.args.channel === "UALICE");
    expect(call?.args.blocks).toBeDefined();
    return call as SlackCall;
  }, 30_000);
  const buttons = (
    dm.args.blocks as {
      type: string;
      elements?: { text: { text: string }; action_id: string; value: string }[];
    }[]
  ).flatMap((block) => block.elements ?? []);
  const button = (label: string) => {
    const found = buttons.find((b) => b.text.text === label);
    if (!found) throw new Error(`no ${label} button`);
    return found;
  };
  return { thread, waiting, dm, approve: button("Approve"), deny: button("Deny") };
}

function click(user: string, button: { action_id: string; value: string }, dmTs: string) {
  return events.interaction({
    type: "block_actions",
    team: { id: slack.teamId },
    user: { id: user, team_id: slack.teamId },
    channel: { id: user === "UALICE" ? "UALICE" : "C0GENERAL" },
    message: { ts: dmTs },
    container: { type: "message", message_ts: dmTs, channel_id: "UALICE" },
    trigger_id: `trigger-${user}-${Date.now()}`,
    actions: [
      {
        type: "button",
        action_id: button.action_id,
        value: button.value,
        block_id: "b",
        action_ts: "1",
      },
    ],
  });
}

describe("an approval budget in Slack", { timeout: 120_000 }, () => {
  it("asks the approver in a DM, refuses a click by someone who may not approve, and runs on Approve", async () => {
    slack.allow(...ALLOWED);
    const asked = await askOverBudget("draft the quarterly memo");
    expect(asked.waiting.args.channel).toBe("C0GENERAL");
    expect(String(asked.waiting.args.text)).toContain(
      "The approval budget for team:research is $0.10 this month",
    );
    const request = texts([asked.dm])[0] as string;
    expect(request).toContain("ada@example.com");
    expect(request).toContain("*writer*");
    expect(request).toContain("team:research");
    expect(request).toContain("draft the quarterly memo");
    // Mallory copies the button's id into a click of her own: she may not approve.
    const dmTs = "1800000000.500000";
    expect((await click("UMAL", asked.approve, dmTs)).status).toBe(200);
    await eventually(async () => {
      expect(texts(slack.callsOf("response_url")).join(" ")).toContain(
        "You may not decide this approval: only the budget's approvers may.",
      );
    });
    // Nothing ran: no answer anywhere yet.
    expect(texts(slack.calls).join(" ")).not.toContain("View on Switchboard");

    expect((await click("UALICE", asked.approve, dmTs)).status).toBe(200);
    await eventually(async () => {
      const settled = slack
        .callsOf("chat.update")
        .find((c) => String(c.args.text).includes("approved the run"));
      expect(settled?.args.text).toBe(
        "<@UALICE> approved the run of *writer* for ada@example.com.",
      );
    });
    // Ada's thread gets the answer.
    await eventually(async () => {
      const answer = slack.calls.find(
        (c) =>
          JSON.stringify(c.args.blocks ?? "").includes("View on Switchboard") &&
          JSON.stringify(c.args.blocks).includes("draft the quarterly memo"),
      );
      expect(answer).toBeDefined();
    }, 30_000);
    // A second click (a double click, a retry) is told what stands and changes nothing.
    expect((await click("UALICE", asked.approve, dmTs)).status).toBe(200);
    await eventually(async () => {
      expect(texts(slack.callsOf("response_url")).join(" ")).toContain(
        "This approval was already approved by alice@example.com.",
      );
    });
  });

  it("runs a run over a notify budget and tells its approver in a DM, with nothing to click", async () => {
    slack.allow(...ALLOWED);
    const thread = nextTs();
    await events.mention("UADA", "notes jot this down", thread);
    const dm = await eventually(async () => {
      const call = slack.callsOf("chat.postMessage").find((c) => c.args.channel === "UALICE");
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    const told = texts([dm]).join(" ");
    expect(told).toContain("The budget for team:ops is at 100% of $0.10");
    expect(told).toContain("notes");
    expect(told).not.toContain("approve_budget");
    // Ada's run was not held: her thread gets its answer.
    await eventually(async () => {
      const inThread = texts(
        slack.calls.filter((c) => c.args.thread_ts === thread || c.method === "chat.update"),
      ).join(" ");
      expect(inThread).toContain("jot this down");
    }, 30_000);
  });

  it("tells Ada in her thread when the approver says no", async () => {
    slack.allow(...ALLOWED);
    const asked = await askOverBudget("rewrite the whole handbook");
    expect((await click("UALICE", asked.deny, "1800000000.600000")).status).toBe(200);
    await eventually(async () => {
      const inThread = texts(
        slack.calls.filter((c) => c.args.thread_ts === asked.thread || c.method === "chat.update"),
      ).join(" ");
      expect(inThread).toContain("Denied by alice@example.com.");
    }, 30_000);
  });
});
