import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorCall, TeamsMember } from "./doubles/bot-connector.js";
import { eventually } from "./support/eventually.js";
import { agentManifest } from "./support/slack-harness.js";
import { type Activity, TeamsHarness } from "./support/teams-harness.js";

/**
 * Asking for access with a button, in Teams, against `switchboard serve`: Ada is refused a
 * run in a channel and the refusal is a card with "Request access" and a field for why
 * (starting from her request's words); the agent's owner Alice gets a card in her 1:1 chat
 * naming who asks and why, with Approve, Deny and a field for Deny's reason; Mallory (not
 * an owner) clicking changes nothing; Alice's Approve writes the grant once however often it
 * arrives and her card shows who decided; Ada hears it in her 1:1 chat and may run the
 * agent. Clicks are signed message activities carrying the card's value.
 */

const ada: TeamsMember = {
  id: "29:1ada",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000000ada1",
  name: "Ada Lovelace",
  email: "ada@example.com",
};
const eve: TeamsMember = {
  id: "29:1eve",
  aadObjectId: "6f1c2b9e-0000-4000-8000-000000000e0e",
  name: "Eve",
  email: "eve@example.com",
};
const alice: TeamsMember = {
  id: "29:1alice",
  aadObjectId: "6f1c2b9e-0000-4000-8000-0000000a11ce",
  name: "Alice <b>Owner</b>",
  email: "alice@example.com",
};
const mallory: TeamsMember = {
  id: "29:1mallory",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000ma11043",
  name: "Mallory",
  email: "mallory@example.com",
};

const frank: TeamsMember = {
  id: "29:1frank",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000000f4a1",
  name: "Frank",
  email: "frank@example.com",
};

const HOSTILE = "see [x](javascript:alert(1)) *bold* <at>Alice</at> **loud**";

let harness: TeamsHarness;
let roots = 0;
const newRoot = () => `17200000000${++roots}`;
const chain = (root: string) => `19:general-channel@thread.tacv2;messageid=${root}`;
const dmOf = (member: TeamsMember) => harness.connector.personalConversation(member.aadObjectId);
const json = (call: ConnectorCall | undefined) => JSON.stringify(call?.activity ?? {});

interface Card {
  body: { type: string; text?: string; id?: string; value?: string }[];
  actions: { title: string; data: { switchboardAction: string } }[];
}

beforeAll(async () => {
  harness = await TeamsHarness.start({
    members: [ada, eve, alice, mallory, frank],
    agents: {
      "ledger.yaml": agentManifest({
        name: "ledger",
        title: "Ledger",
        runtime: "    type: demo\n    delay_ms: 10",
        owner: "team:finance",
        run: [],
      }),
      "payroll.yaml": agentManifest({
        name: "payroll",
        title: "Payroll",
        runtime: "    type: demo\n    delay_ms: 10",
        owner: "team:finance",
        run: [],
      }),
    },
    commands: [
      ["agents", "feature", "ledger", "payroll"],
      ["authz", "grant", "alice@example.com", "admin", "team:finance"],
    ],
  });
  // Alice and Mallory have talked to the bot once: Teams knows who they are (linked ids).
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

function cardOf(call: ConnectorCall): Card {
  return call.activity?.attachments?.[0]?.content as Card;
}

function submitOf(card: Card, title: string) {
  const found = card.actions.find((action) => action.title === title);
  if (!found) throw new Error(`no ${title} button`);
  return found.data;
}

/** A click on a card's button as Teams delivers it: a message activity with its value. */
function click(
  member: TeamsMember,
  value: Activity,
  cardId: string,
  where: { kind: "personal" } | { kind: "channel"; root: string } = { kind: "personal" },
): Activity {
  const activity = harness.message(member, "", { ...where, mention: false });
  delete activity.text;
  return { ...activity, value, replyToId: cardId };
}

/** `member` asks `agent` in a new reply chain; answers the refusal card. */
async function refused(member: TeamsMember, agent: string, request: string) {
  const root = newRoot();
  const asked = harness.message(member, `${agent} ${request}`, { kind: "channel", id: root });
  expect((await harness.post(asked)).status).toBe(200);
  const sent = await harness.connector.waitForText("Request access", chain(root));
  return { root, sent, card: cardOf(sent) };
}

/** The card an owner got in their 1:1 chat about a request from `email`. */
async function ownerCard(owner: TeamsMember, email: string) {
  const sent = await eventually(async () => {
    const call = harness.connector
      .posted(dmOf(owner))
      .find((c) => c.method !== "update" && json(c).includes(email) && cardOf(c)?.actions);
    expect(call).toBeDefined();
    return call as ConnectorCall;
  }, 30_000);
  return { sent, card: cardOf(sent) };
}

describe("requesting access with a button in Teams", { timeout: 120_000 }, () => {
  it("files from a refusal card, asks the owner in a 1:1 card, refuses a non-owner, approves once and lets the person run", async () => {
    const ask = await refused(ada, "ledger", "close the books for March");
    expect(json(ask.sent)).toContain("aren't allowed to run it yet");
    expect(json(ask.sent)).not.toMatch(/switchboard (authz|agents)/);
    // The card's field starts from her request; the button carries only an opaque id.
    expect(ask.card.body.find((b) => b.type === "Input.Text")?.value).toBe(
      "close the books for March",
    );
    const request = submitOf(ask.card, "Request access");
    expect(Object.keys(request)).toEqual(["switchboardAction"]);

    // Ada clicks with her reason in the field (Teams sends it with the button's data).
    const clicked = click(ada, { ...request, switchboardInput: HOSTILE }, ask.sent.id as string, {
      kind: "channel",
      root: ask.root,
    });
    expect((await harness.post(clicked)).status).toBe(200);
    await harness.connector.waitForText("I asked the owners of **ledger**", chain(ask.root));

    const owner = await ownerCard(alice, "ada@example.com");
    const texts = owner.card.body.map((b) => b.text ?? "");
    expect(texts).toContain("**Asked by:** ada@example.com");
    // Hostile reason: its Markdown escaped, so nothing links, bolds or mentions.
    expect(texts).toContain(
      "**Reason:** see \\[x\\]\\(javascript:alert\\(1\\)\\) \\*bold\\* <at>Alice</at> \\*\\*loud\\*\\*",
    );
    expect(
      owner.card.body.some((b) => b.type === "Input.Text" && b.id === "switchboardInput"),
    ).toBe(true);
    const approve = submitOf(owner.card, "Approve");

    // Mallory copies the button's value into a click of her own: refused, nothing changes.
    expect((await harness.post(click(mallory, approve, "1"))).status).toBe(200);
    await harness.connector.waitForText(
      "You may not decide this request: only the owners of ledger may.",
      dmOf(mallory),
    );

    // Alice approves twice (a double click): it applies once.
    await Promise.all([
      harness.post(click(alice, approve, owner.sent.id as string)),
      harness.post(click(alice, approve, owner.sent.id as string)),
    ]);
    const settled = await eventually(async () => {
      const update = harness.connector
        .posted(dmOf(alice))
        .find(
          (c) =>
            c.method === "update" &&
            c.activityId === owner.sent.id &&
            String(c.activity?.text).includes("approved the request"),
        );
      expect(update).toBeDefined();
      return update as ConnectorCall;
    }, 30_000);
    expect(settled.activity?.text).toContain(
      "Alice &lt;b&gt;Owner&lt;/b&gt; approved the request to run **ledger**.",
    );
    await harness.connector.waitForText(
      "This request was already approved; nothing changed.",
      dmOf(alice),
    );

    // Ada hears it in her 1:1 chat (opened by the bot), once.
    const told = await eventually(async () => {
      const sent = harness.connector
        .posted(dmOf(ada))
        .filter((c) => json(c).includes("Your request was approved"));
      expect(sent).toHaveLength(1);
      return sent[0] as ConnectorCall;
    }, 30_000);
    expect(told.activity?.text).toContain("you may now run **ledger**.");
    expect(told.activity?.text).toContain("**Decided by:** alice@example.com");

    // And she may run it now.
    const root = newRoot();
    await harness.post(
      harness.message(ada, "ledger close the books", { kind: "channel", id: root }),
    );
    await harness.connector.waitForText("View on Switchboard", chain(root));
  });

  it("denies with the reason from the card's field and tells the person why", async () => {
    const ask = await refused(eve, "payroll", "check my payslip");
    const request = submitOf(ask.card, "Request access");
    await harness.post(
      click(
        eve,
        { ...request, switchboardInput: "my payslip looks wrong" },
        ask.sent.id as string,
        {
          kind: "channel",
          root: ask.root,
        },
      ),
    );
    const owner = await ownerCard(alice, "eve@example.com");
    const deny = submitOf(owner.card, "Deny");
    await harness.post(
      click(
        alice,
        { ...deny, switchboardInput: "payroll is [HR](javascript:x) only" },
        owner.sent.id as string,
      ),
    );
    await harness.connector.waitForText("denied the request to run **payroll**", dmOf(alice));
    const told = await harness.connector.waitForText("was denied", dmOf(eve));
    expect(told.activity?.text).toContain("Your request to run **payroll** was denied.");
    expect(told.activity?.text).toContain("**Why:** payroll is \\[HR\\]\\(javascript:x\\) only");
  });

  it("tells the decision in the reply chain where it was asked when the bot cannot open a 1:1 chat", async () => {
    // Frank blocked the bot's 1:1 chat: Teams refuses to open it.
    harness.connector.blockedBy(frank.aadObjectId);
    const ask = await refused(frank, "ledger", "reconcile invoices");
    await harness.post(
      click(
        frank,
        { ...submitOf(ask.card, "Request access"), switchboardInput: "month end" },
        ask.sent.id as string,
        {
          kind: "channel",
          root: ask.root,
        },
      ),
    );
    const owner = await ownerCard(alice, "frank@example.com");
    await harness.post(click(alice, submitOf(owner.card, "Approve"), owner.sent.id as string));
    const told = await harness.connector.waitForText("Your request was approved", chain(ask.root));
    expect(told.activity?.text).toContain("**Asked by:** frank@example.com");
    expect(told.activity?.text).toContain("**Decided by:** alice@example.com");
    // The bot tried her 1:1 chat once and was refused; nothing went there.
    expect(
      harness.connector
        .opened()
        .filter((c) => c.conversationId === dmOf(frank))
        .map((c) => c.refused),
    ).toEqual([403]);
    expect(harness.connector.posted(dmOf(frank))).toEqual([]);
  });

  it("answers a refused click on someone's suggestion with a Request access card", async () => {
    const root = newRoot();
    await harness.post(
      harness.message(alice, "close the books for April", { kind: "channel", id: root }),
    );
    const suggestion = await harness.connector.waitForText("Run ledger", chain(root));
    const containers = cardOf(suggestion).body as unknown as {
      items?: { actions?: { title: string; data?: { switchboardAction: string } }[] }[];
    }[];
    const run = containers
      .flatMap((c) => c.items ?? [])
      .flatMap((i) => i.actions ?? [])
      .find((a) => a.title === "Run ledger")?.data;
    expect(run?.switchboardAction).toMatch(/^[0-9a-f-]{36}$/);
    // Mallory may see ledger, not run it: her click is refused with a button to ask.
    await harness.post(
      click(mallory, run as Activity, suggestion.id as string, { kind: "channel", root }),
    );
    const refusal = await eventually(async () => {
      const call = harness.connector
        .posted(chain(root))
        .find((c) => c.method !== "update" && json(c).includes("aren't allowed to run it yet"));
      expect(call).toBeDefined();
      return call as ConnectorCall;
    }, 30_000);
    expect(Object.keys(submitOf(cardOf(refusal), "Request access"))).toEqual(["switchboardAction"]);
    // Nothing ran: the suggestion was not settled.
    expect(harness.connector.updatesOf(suggestion.id as string)).toEqual([]);
  });
});
