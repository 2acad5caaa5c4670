import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorCall, TeamsMember } from "./doubles/bot-connector.js";
import { eventually } from "./support/eventually.js";
import { agentManifest } from "./support/slack-harness.js";
import { type Activity, TeamsHarness } from "./support/teams-harness.js";

/**
 * A team over its approval budget, in Teams: Ada's run waits (her reply chain says so), the
 * team's approver Alice gets an Adaptive Card in a 1:1 chat the bot opens (POST
 * v3/conversations) with Approve and Deny, and Ada's reply chain hears the outcome either
 * way. Clicks are signed message activities carrying the card's value, against `switchboard
 * serve`; a click by someone who may not approve, and a repeated click, change nothing.
 */

const ada: TeamsMember = {
  id: "29:1ada",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000000ada1",
  name: "Ada Lovelace",
  email: "ada@example.com",
};
const alice: TeamsMember = {
  id: "29:1alice",
  aadObjectId: "6f1c2b9e-0000-4000-8000-0000000a11ce",
  name: "Alice <b>Approver</b>",
  email: "alice@example.com",
};
const mallory: TeamsMember = {
  id: "29:1mallory",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000ma11043",
  name: "Mallory",
  email: "mallory@example.com",
};

let harness: TeamsHarness;
let roots = 0;
const newRoot = () => `17100000000${++roots}`;
const chain = (root: string) => `19:general-channel@thread.tacv2;messageid=${root}`;
const dmOf = (member: TeamsMember) => harness.connector.personalConversation(member.aadObjectId);
const textOf = (calls: ConnectorCall[]) => calls.map((c) => JSON.stringify(c.activity ?? {}));

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
  // Alice and Mallory have talked to the bot once: Teams knows who they are (linked ids).
  for (const member of [alice, mallory]) {
    const hello = harness.message(member, "hello", { kind: "personal" });
    expect((await harness.post(hello)).status).toBe(200);
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

interface Card {
  body: { text: string }[];
  actions: { title: string; data: { switchboardAction: string } }[];
}

/** Ada asks in a new reply chain; answers the chain and the card Alice received. */
async function askOverBudget(request: string) {
  const root = newRoot();
  const cardsBefore = harness.connector.posted(dmOf(alice)).length;
  const asked = harness.message(ada, `writer ${request}`, { kind: "channel", id: root });
  expect((await harness.post(asked)).status).toBe(200);
  await harness.connector.waitForText("waits for an approver", chain(root));
  const sent = await eventually(async () => {
    const call = harness.connector
      .posted(dmOf(alice))
      .slice(cardsBefore)
      .find((c) => JSON.stringify(c.activity ?? {}).includes(request));
    expect(call?.activity?.attachments?.[0]?.content).toBeDefined();
    return call as ConnectorCall;
  }, 30_000);
  const card = sent.activity?.attachments[0].content as Card;
  const button = (title: string) => {
    const found = card.actions.find((action) => action.title === title);
    if (!found) throw new Error(`no ${title} button`);
    return found.data;
  };
  return { root, sent, card, approve: button("Approve"), deny: button("Deny") };
}

/** A click on a card's button as Teams delivers it: a message activity with its value. */
function click(member: TeamsMember, value: Activity, cardId: string): Activity {
  const activity = harness.message(member, "", { kind: "personal" });
  delete activity.text;
  return { ...activity, value, replyToId: cardId };
}

describe("an approval budget in Teams", { timeout: 120_000 }, () => {
  it("asks the approver in a 1:1 card, refuses someone who may not approve, and runs on Approve", async () => {
    const asked = await askOverBudget("draft the quarterly memo");
    // The bot opened its 1:1 chat with Alice by her Entra object id, in the bot's tenant.
    const opened = harness.connector.opened();
    expect(opened.length).toBeGreaterThan(0);
    expect(opened[0]?.activity).toMatchObject({
      isGroup: false,
      members: [{ id: alice.aadObjectId }],
      tenantId: harness.connector.tenantId,
    });
    const words = asked.card.body.map((block) => block.text).join(" ");
    expect(words).toContain("ada@example.com");
    expect(words).toContain("**writer**");
    expect(words).toContain("team:research");
    expect(words).toContain("draft the quarterly memo");
    // The button carries only an opaque id.
    expect(Object.keys(asked.approve)).toEqual(["switchboardAction"]);
    expect(JSON.stringify(asked.approve)).not.toContain("approval");

    // Mallory copies the button's value into a click of her own: she may not approve.
    expect((await harness.post(click(mallory, asked.approve, "1"))).status).toBe(200);
    await harness.connector.waitForText(
      "You may not decide this approval: only the budget",
      dmOf(mallory),
    );
    expect(textOf(harness.connector.posted(chain(asked.root))).join(" ")).not.toContain(
      "View on Switchboard",
    );

    expect((await harness.post(click(alice, asked.approve, asked.sent.id as string))).status).toBe(
      200,
    );
    const settled = await eventually(async () => {
      const update = harness.connector
        .posted(dmOf(alice))
        .find((c) => c.method === "update" && c.activityId === asked.sent.id);
      expect(update).toBeDefined();
      return update as ConnectorCall;
    }, 30_000);
    // Alice's display name is hers to choose: shown as written, never as markup.
    expect(settled.activity?.text).toContain("approved the run of **writer** for ada@example.com.");
    expect(settled.activity?.text).not.toContain("<b>");
    // Ada's reply chain gets the answer.
    await eventually(async () => {
      const answers = textOf(harness.connector.posted(chain(asked.root))).filter(
        (text) => text.includes("View on Switchboard") && text.includes("quarterly memo"),
      );
      expect(answers.length).toBeGreaterThan(0);
    }, 30_000);

    // The same click again (a retry, a double click) is told what stands and changes nothing.
    const answersBefore = harness.connector
      .posted(chain(asked.root))
      .filter((c) => JSON.stringify(c.activity ?? {}).includes("View on Switchboard")).length;
    expect((await harness.post(click(alice, asked.approve, asked.sent.id as string))).status).toBe(
      200,
    );
    await harness.connector.waitForText(
      "This approval was already approved by alice@example.com.",
      dmOf(alice),
    );
    expect(
      harness.connector
        .posted(chain(asked.root))
        .filter((c) => JSON.stringify(c.activity ?? {}).includes("View on Switchboard")).length,
    ).toBe(answersBefore);
  });

  it("tells Ada in her reply chain when the approver says no, and the run fails", async () => {
    const asked = await askOverBudget("rewrite the whole handbook");
    expect((await harness.post(click(alice, asked.deny, asked.sent.id as string))).status).toBe(
      200,
    );
    await harness.connector.waitForText(
      "writer could not answer: Denied by alice@example.com.",
      chain(asked.root),
    );
    await harness.connector.waitForText("denied the run of **writer**", dmOf(alice));
    // An Approve after the Deny changes nothing: the run stays failed, Ada gets no answer.
    expect((await harness.post(click(alice, asked.approve, asked.sent.id as string))).status).toBe(
      200,
    );
    await harness.connector.waitForText("This approval was already denied", dmOf(alice));
    const finished = textOf(harness.connector.posted(chain(asked.root))).filter((text) =>
      text.includes("View on Switchboard"),
    );
    expect(finished).toHaveLength(1);
    expect(finished[0]).toContain("writer could not answer: Denied by alice@example.com.");
  });
});
