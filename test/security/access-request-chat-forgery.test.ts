import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackArgs, SlackCall, SlackWebApiDouble } from "../doubles/slack-web-api.js";
import { eventually } from "../support/eventually.js";
import type { SlackEventSender } from "../support/slack-events.js";
import { agentManifest, SlackHarness } from "../support/slack-harness.js";

/**
 * Getting the right to run an agent from Slack without an owner's yes, against `switchboard
 * serve`: Mallory (a viewer, not an owner) sends signed clicks and form submissions she
 * wrote herself: a copy of the owner's Approve, Deny's form submitted naming the owner's
 * Deny and Approve ids, made-up and SQL-looking ids in the form's hidden state, and a click
 * on someone else's "Request access" (which files for her, never for them). Each is refused
 * in words or does nothing; Ada's request keeps waiting and she still may not run the agent;
 * the owner's own click then applies.
 */

let harness: SlackHarness;
let slack: SlackWebApiDouble;
let events: SlackEventSender;

const ALLOWED = [
  "assistant.threads.setStatus",
  "chat.postMessage",
  "chat.startStream",
  "chat.update",
  "response_url",
  "users.lookupByEmail",
  "views.open",
];

type Button = { text: { text: string }; action_id: string; value: string };
const json = (call: SlackCall | undefined) => JSON.stringify(call?.args ?? {});
const buttonsOf = (call: SlackCall) =>
  ((call.args.blocks ?? []) as { elements?: Button[] }[]).flatMap((b) => b.elements ?? []);
function buttonOf(call: SlackCall, label: string): Button {
  const found = buttonsOf(call).find((b) => b.text.text === label);
  if (!found) throw new Error(`no ${label} button`);
  return found;
}

beforeAll(async () => {
  harness = await SlackHarness.start({
    users: [
      { id: "UADA", email: "ada@example.com", name: "Ada" },
      { id: "UALICE", email: "alice@example.com", name: "Alice" },
      { id: "UMAL", email: "mallory@example.com", name: "Mallory" },
    ],
    agents: {
      "vault.yaml": agentManifest({
        name: "vault",
        title: "Vault",
        runtime: "    type: demo\n    delay_ms: 10",
        owner: "team:treasury",
        run: [],
      }),
    },
    commands: [
      ["agents", "feature", "vault"],
      ["authz", "grant", "alice@example.com", "admin", "team:treasury"],
      // Mallory admins a team of her own: owning some agents does not make her an owner here.
      ["authz", "grant", "mallory@example.com", "admin", "team:finance"],
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

function click(user: string, button: Pick<Button, "action_id" | "value">, ts: string) {
  return events.interaction({
    type: "block_actions",
    team: { id: slack.teamId },
    user: { id: user, team_id: slack.teamId },
    channel: { id: "C0GENERAL" },
    message: { ts },
    container: { type: "message", message_ts: ts, channel_id: "C0GENERAL" },
    trigger_id: `trigger-${user}-${Date.now()}`,
    actions: [{ type: "button", ...button, block_id: "b", action_ts: "1" }],
  });
}

/** A form submission Mallory wrote: the prompt's callback with the hidden state she chose. */
function forgedSubmission(user: string, metadata: SlackArgs | string, text: string) {
  return events.interaction({
    type: "view_submission",
    team: { id: slack.teamId },
    user: { id: user, team_id: slack.teamId },
    trigger_id: `trigger-forged-${Date.now()}`,
    view: {
      id: `VFORGED${Date.now()}`,
      team_id: slack.teamId,
      type: "modal",
      callback_id: "chat_action_input",
      private_metadata: typeof metadata === "string" ? metadata : JSON.stringify(metadata),
      state: { values: { answer: { text: { type: "plain_text_input", value: text } } } },
    },
  });
}

/** What Mallory was told in her DM (the form is closed, so that is where she hears). */
const toldMallory = () =>
  slack
    .callsOf("chat.postMessage")
    .filter((c) => c.args.channel === "UMAL")
    .map((c) => String(c.args.text));

describe("deciding an access request from Slack without being an owner", {
  timeout: 120_000,
}, () => {
  it("refuses every click and form Mallory writes, files only for herself, and the owner's click still applies", async () => {
    slack.allow(...ALLOWED);
    // Ada is refused, asks with the button, and Alice gets her DM.
    await events.mention("UADA", "vault move the money", "1700300001.000100");
    const refusal = await eventually(async () => {
      const call = slack
        .callsOf("chat.postMessage")
        .find((c) => json(c).includes("Request access"));
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    const requestAccess = buttonOf(refusal, "Request access");
    await click("UADA", requestAccess, "1800000009.000001");
    const form = await eventually(async () => {
      const call = slack.callsOf("views.open")[0];
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    const adaState = JSON.parse(String((form.args.view as SlackArgs).private_metadata));
    await forgedSubmission("UADA", adaState, "quarter end");
    const dm = await eventually(async () => {
      const call = slack
        .callsOf("chat.postMessage")
        .find((c) => c.args.channel === "UALICE" && json(c).includes("ada@example.com"));
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    const approve = buttonOf(dm, "Approve");
    const deny = buttonOf(dm, "Deny");

    // 1. A copy of Alice's Approve, and of her Deny.
    await click("UMAL", approve, "1800000009.000002");
    await click("UMAL", deny, "1800000009.000002");
    await eventually(async () => {
      const said = slack.callsOf("response_url").map((c) => String(c.args.text));
      expect(said.filter((t) => t.includes("You may not decide this request"))).toHaveLength(2);
    });
    // Refused before any form: Mallory gets no Deny form to fill in.
    expect(slack.callsOf("views.open")).toHaveLength(1);

    // 2. Deny's form, submitted with the owner's real ids in the hidden state.
    for (const action of [deny.value, approve.value]) {
      await forgedSubmission("UMAL", { action, team: slack.teamId, channel: "UALICE" }, "no");
    }
    // 3. Made-up, SQL-looking and unreadable hidden state.
    await forgedSubmission("UMAL", { action: "00000000-0000-4000-8000-000000000000" }, "x");
    await forgedSubmission("UMAL", { action: "' OR 1=1 --" }, "x");
    await forgedSubmission("UMAL", "not json at all", "x");
    await eventually(async () => {
      const told = toldMallory();
      expect(told.filter((t) => t.includes("You may not decide this request"))).toHaveLength(2);
      expect(told.filter((t) => t.includes("no longer works"))).toHaveLength(2);
    }, 30_000);

    // Nothing was decided: no message settled, Ada told nothing, and she still may not run it.
    expect(slack.callsOf("chat.update")).toHaveLength(0);
    expect(slack.callsOf("chat.postMessage").filter((c) => c.args.channel === "UADA")).toEqual([]);

    // 4. Mallory clicks Ada's "Request access": it asks for Mallory, never for Ada.
    await click("UMAL", requestAccess, "1800000009.000003");
    const mallorysForm = await eventually(async () => {
      const call = slack.callsOf("views.open")[1];
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    await forgedSubmission(
      "UMAL",
      JSON.parse(String((mallorysForm.args.view as SlackArgs).private_metadata)),
      "me too",
    );
    const second = await eventually(async () => {
      const call = slack
        .callsOf("chat.postMessage")
        .find((c) => c.args.channel === "UALICE" && json(c).includes("mallory@example.com"));
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    expect(json(second)).not.toContain("ada@example.com");

    // Alice's own click still applies, once.
    await click("UALICE", approve, "1800000009.000004");
    await eventually(async () => {
      const told = slack.callsOf("chat.postMessage").filter((c) => c.args.channel === "UADA");
      expect(told.map((c) => c.args.text)).toEqual([
        "Your request was approved: you may now run *vault*.",
      ]);
    }, 30_000);
    // Mallory's request still waits: approving Ada's granted Mallory nothing.
    await events.mention("UMAL", "vault move the money", "1700300002.000100");
    await eventually(async () => {
      const refused = slack
        .callsOf("chat.postMessage")
        .filter((c) => c.args.thread_ts === "1700300002.000100");
      expect(json(refused[0])).toContain("aren't allowed to run it yet");
    }, 30_000);
  });
});
