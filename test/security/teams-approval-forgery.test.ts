import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorCall, TeamsMember } from "../doubles/bot-connector.js";
import { eventually } from "../support/eventually.js";
import { agentManifest } from "../support/slack-harness.js";
import { type Activity, TeamsHarness } from "../support/teams-harness.js";

/**
 * Deciding a held run from Teams without the right to: Mallory, a member of the team (not
 * an approver), sends properly signed clicks whose value she wrote herself — a made-up
 * action id, SQL- and path-looking ids, the approval's own id where the action id goes, a
 * value naming the approval and the decision directly — and a copy of Alice's real Approve.
 * Each is told it does not work (or that she may not decide), the run keeps waiting, and
 * Alice's own Approve afterwards still applies (nothing was used up).
 */

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
const mallory: TeamsMember = {
  id: "29:1mallory",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000ma11043",
  name: "Mallory",
  email: "mallory@example.com",
};

let harness: TeamsHarness;
const root = "1720000000001";
const chain = `19:general-channel@thread.tacv2;messageid=${root}`;
const dmOf = (member: TeamsMember) => harness.connector.personalConversation(member.aadObjectId);

beforeAll(async () => {
  harness = await TeamsHarness.start({
    members: [ada, alice, mallory],
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
  for (const member of [alice, mallory]) {
    expect(
      (await harness.post(harness.message(member, "hello", { kind: "personal" }))).status,
    ).toBe(200);
    await eventually(async () => {
      expect(harness.connector.posted(dmOf(member)).length).toBeGreaterThan(0);
    }, 30_000);
  }
  harness.connector.expectConversations();
}, 180_000);

afterEach(() => {
  harness.verify();
});

afterAll(async () => {
  await harness?.close();
});

function click(member: TeamsMember, value: Activity, replyToId = "1"): Activity {
  const activity = harness.message(member, "", { kind: "personal" });
  delete activity.text;
  return { ...activity, value, replyToId };
}

describe("forged approval clicks from Teams", { timeout: 120_000 }, () => {
  it("decide nothing, and leave the approver's own click working", async () => {
    const asked = harness.message(
      ada,
      "writer draft the board letter <at>Alice</at> [here](https://evil.example)",
      {
        kind: "channel",
        id: root,
      },
    );
    expect((await harness.post(asked)).status).toBe(200);
    await harness.connector.waitForText("waits for an approver", chain);
    const card = await eventually(async () => {
      const call = harness.connector
        .posted(dmOf(alice))
        .find((c) => c.activity?.attachments?.[0]?.content?.actions);
      expect(call).toBeDefined();
      return call as ConnectorCall;
    }, 30_000);
    const actions = card.activity?.attachments[0].content.actions as {
      title: string;
      data: { switchboardAction: string };
    }[];
    const approve = actions.find((a) => a.title === "Approve")?.data as Activity;
    // Ada's words show as written on the card: no link under other words, no markup.
    const cardText = JSON.stringify(card.activity?.attachments[0].content.body);
    expect(cardText).toContain("\\\\[here\\\\]\\\\(https://evil.example\\\\)");
    expect(cardText).not.toContain("[here](https");

    const forged: Activity[] = [
      { switchboardAction: "00000000-0000-4000-8000-000000000000" },
      { switchboardAction: "' or 1=1 --" },
      { switchboardAction: "../../api/v1/approvals" },
      { switchboardAction: "approve_budget", approvalId: "anything", decision: "approve" },
      { approvalId: "anything", decision: "approve" },
      approve,
    ];
    for (const value of forged) {
      expect((await harness.post(click(mallory, value))).status).toBe(200);
    }
    // The copy of the real button is refused by right; the made-up ones do not work at all.
    await harness.connector.waitForText(
      "You may not decide this approval: only the budget",
      dmOf(mallory),
    );
    await harness.connector.waitForText("This button no longer works", dmOf(mallory));
    const chainText = () =>
      harness.connector
        .posted(chain)
        .map((c) => JSON.stringify(c.activity ?? {}))
        .join(" ");
    expect(chainText()).not.toContain("View on Switchboard");
    // Nothing Mallory sent settled the card.
    expect(harness.connector.posted(dmOf(alice)).some((c) => c.method === "update")).toBe(false);

    expect((await harness.post(click(alice, approve, card.id))).status).toBe(200);
    await eventually(async () => {
      expect(chainText()).toContain("draft the board letter");
      expect(chainText()).toContain("View on Switchboard");
    }, 30_000);
  });
});
