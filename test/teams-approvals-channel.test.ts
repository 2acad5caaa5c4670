import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorCall, TeamsMember } from "./doubles/bot-connector.js";
import { eventually } from "./support/eventually.js";
import { agentManifest } from "./support/slack-harness.js";
import { TeamsHarness } from "./support/teams-harness.js";

/**
 * TEAMS_APPROVALS_CONVERSATION: every approval request goes into one channel (no 1:1 chat is
 * opened: the Bot Connector double refuses POST v3/conversations here), and an approver who
 * never talked to the bot decides from there; the person who asked hears it in their chain.
 */

const APPROVALS = "19:approvals@thread.tacv2";
const ada: TeamsMember = {
  id: "29:1ada",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000000ada1",
  name: "Ada",
  email: "ada@example.com",
};
const alice: TeamsMember = {
  id: "29:1alice",
  aadObjectId: "6f1c2b9e-0000-4000-8000-0000000a11ce",
  name: "Alice",
  email: "alice@example.com",
};

let harness: TeamsHarness;

beforeAll(async () => {
  harness = await TeamsHarness.start({
    members: [ada, alice],
    agents: {
      "writer.yaml": agentManifest({
        name: "writer",
        title: "Writer",
        runtime: "    type: demo\n    delay_ms: 10",
        owner: "team:research",
        run: ['"user:*"'],
      }),
    },
    commands: [
      ["agents", "feature", "writer"],
      ["authz", "grant", "alice@example.com", "admin", "team:research"],
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
    env: { TEAMS_APPROVALS_CONVERSATION: APPROVALS },
  });
}, 180_000);

afterEach(() => {
  harness.verify();
});

afterAll(async () => {
  await harness?.close();
});

describe("approval requests in a configured Teams channel", { timeout: 120_000 }, () => {
  it("posts the card there, and an approver's click from the channel starts the run", async () => {
    const root = "1730000000001";
    const chain = `19:general-channel@thread.tacv2;messageid=${root}`;
    const asked = harness.message(ada, "writer summarise the offsite", {
      kind: "channel",
      id: root,
    });
    expect((await harness.post(asked)).status).toBe(200);
    await harness.connector.waitForText("waits for an approver", chain);
    const card = await eventually(async () => {
      const call = harness.connector
        .posted(APPROVALS)
        .find((c) => JSON.stringify(c.activity ?? {}).includes("summarise the offsite"));
      expect(call?.method).toBe("send");
      return call as ConnectorCall;
    }, 30_000);
    expect(harness.connector.opened()).toEqual([]);
    const approve = (
      (card.activity?.attachments?.[0]?.content?.actions ?? []) as {
        title: string;
        data: Record<string, string>;
      }[]
    ).find((action) => action.title === "Approve")?.data;

    const click = harness.message(alice, "", { kind: "channel", root: card.id as string });
    delete click.text;
    click.conversation.id = `${APPROVALS};messageid=${card.id}`;
    expect((await harness.post({ ...click, value: approve, replyToId: card.id })).status).toBe(200);
    await eventually(async () => {
      const settled = harness.connector
        .posted()
        .find((c) => c.method === "update" && c.activityId === card.id);
      expect(settled?.activity?.text).toContain(
        "approved the run of **writer** for ada@example.com.",
      );
    }, 30_000);
    await eventually(async () => {
      const answered = harness.connector
        .posted(chain)
        .some((c) => String(c.activity?.text ?? "").includes("View on Switchboard"));
      expect(answered).toBe(true);
    }, 30_000);
  });
});
