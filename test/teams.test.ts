import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TeamsMember } from "./doubles/bot-connector.js";
import { eventually } from "./support/eventually.js";
import { agentManifest } from "./support/slack-harness.js";
import { TEAMS_APP_PASSWORD, TeamsHarness } from "./support/teams-harness.js";

/**
 * Teams from signed Bot Framework activities alone: `switchboard serve` with the Teams bot on,
 * tokens signed by a local OpenID metadata double's key, replies recorded by a local Bot
 * Connector double that fails on any call it did not expect.
 */

const ada: TeamsMember = {
  id: "29:1ada",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000000ada1",
  name: "Ada Lovelace",
  email: "ada@example.com",
};
/** Known to Teams by UPN only. */
const grace: TeamsMember = {
  id: "29:1grace",
  aadObjectId: "6f1c2b9e-0000-4000-8000-0000000gr4ce",
  name: "Grace Hopper",
  userPrincipalName: "grace@example.com",
};

let harness: TeamsHarness;
const everyone = ['"user:*"'];
let roots = 0;
const newRoot = () => `17000000000${++roots}`;
const chain = (root: string) => `19:general-channel@thread.tacv2;messageid=${root}`;

async function answerIn(conversationId: string, count = 1) {
  return eventually(async () => {
    const answers = harness.connector
      .posted(conversationId)
      .filter((call) => String(call.activity?.text ?? "").includes("View on Switchboard"));
    expect(answers.length).toBeGreaterThanOrEqual(count);
    return answers;
  }, 30_000);
}

beforeAll(async () => {
  harness = await TeamsHarness.start({
    members: [ada, grace],
    agents: {
      "helpdesk.yaml": agentManifest({
        name: "helpdesk",
        title: "IT helpdesk",
        runtime: "    type: demo\n    delay_ms: 20",
        run: everyone,
      }),
      "slow.yaml": agentManifest({
        name: "slow",
        title: "Slow agent",
        runtime: "    type: demo\n    delay_ms: 250",
        run: everyone,
      }),
      "payroll.yaml": agentManifest({
        name: "payroll",
        title: "Payroll <b>questions</b>",
        description: "Answers payroll questions *for finance*",
        run: ['"user:carol@example.com"'],
      }),
      "secret-project.yaml": agentManifest({
        name: "secret-project",
        title: "Secret project",
        view: ['"user:carol@example.com"'],
        run: ['"user:carol@example.com"'],
      }),
    },
    commands: [["agents", "feature", "helpdesk", "payroll", "slow"]],
  });
}, 180_000);

afterEach(() => {
  harness.verify();
});

afterAll(async () => {
  await harness?.close();
});

describe("the Teams bot", () => {
  it("refuses a request without a token, or with a bad one, and runs nothing", async () => {
    const before = harness.connector.calls.length;
    const activity = harness.message(ada, "helpdesk my laptop is slow", { kind: "channel" });
    expect((await harness.post(activity, null)).status).toBe(401);
    expect((await harness.post(activity, "not.a.jwt")).status).toBe(401);
    expect((await harness.post(activity, harness.token({}, { forged: true }))).status).toBe(401);
    // The same activity, now properly signed, is new to the bot: nothing was claimed before.
    expect((await harness.post(activity)).status).toBe(200);
    await answerIn(activity.conversation.id);
    expect(harness.connector.calls.length).toBeGreaterThan(before);
  });

  it("answers a mention in the channel's reply chain, and continues there without one", async () => {
    const root = newRoot();
    const first = harness.message(ada, "helpdesk my VPN drops every hour", {
      kind: "channel",
      id: root,
    });
    expect((await harness.post(first)).status).toBe(200);
    const [answer] = await answerIn(chain(root));
    expect(answer?.method).toBe("update");
    expect(answer?.activity?.text).toContain("VPN");

    const next = harness.message(ada, "and on the guest wifi too?", {
      kind: "channel",
      root,
      mention: false,
    });
    expect((await harness.post(next)).status).toBe(200);
    const answers = await answerIn(chain(root), 2);
    expect(JSON.stringify(answers.at(-1)?.activity)).toContain("guest wifi");
  });

  it("shows an agent's answer as text: no mention, no hidden link, no markup of its own", async () => {
    const root = newRoot();
    // Typed markup arrives as entities (Teams' editor escapes it); the demo agent echoes it back.
    await harness.post(
      harness.message(
        ada,
        'helpdesk say &lt;at&gt;Everyone&lt;/at&gt; and &lt;a href="https://evil.example"&gt;docs&lt;/a&gt;',
        { kind: "channel", id: root },
      ),
    );
    const [answer] = await answerIn(chain(root));
    const text = String(answer?.activity?.text);
    expect(text).toContain("&lt;at&gt;Everyone&lt;/at&gt;");
    expect(text).not.toContain("<at>");
    expect(text).not.toContain("<a href");
    expect(answer?.activity?.entities ?? []).toEqual([]);
  });

  it("answers in a group chat, where the chat is the session, and ignores other bots", async () => {
    const first = harness.message(ada, "helpdesk is the wiki down", { kind: "groupChat" });
    await harness.post(first);
    await answerIn(first.conversation.id);
    const next = harness.message(ada, "and the intranet?", { kind: "groupChat", mention: false });
    await harness.post(next);
    const answers = await answerIn(first.conversation.id, 2);
    expect(JSON.stringify(answers.at(-1)?.activity)).toContain("intranet");
    // Another bot in the chat: nothing is run or said for it.
    const before = harness.connector.calls.length;
    const bot = { ...ada, id: "28:another-bot", aadObjectId: "" };
    await harness.post(harness.message(bot, "helpdesk ping", { kind: "groupChat" }));
    await harness.post(harness.message(ada, "thanks", { kind: "groupChat", mention: false }));
    await answerIn(first.conversation.id, 3);
    expect(
      harness.connector.calls.slice(before).some((call) => JSON.stringify(call).includes("ping")),
    ).toBe(false);
  });

  it("starts one run for an activity delivered twice", async () => {
    const root = newRoot();
    const activity = harness.message(ada, "helpdesk reset my password", {
      kind: "channel",
      id: root,
    });
    const [one, two] = await Promise.all([harness.post(activity), harness.post(activity)]);
    expect([one.status, two.status]).toEqual([200, 200]);
    await answerIn(chain(root));
    // A later message in the chain is answered once too: by then a second run would have shown.
    await harness.post(harness.message(ada, "thanks", { kind: "channel", root }));
    await answerIn(chain(root), 2);
    const answers = harness.connector
      .posted(chain(root))
      .filter((call) => String(call.activity?.text ?? "").includes("View on Switchboard"));
    expect(answers).toHaveLength(2);
  });

  it("maps a person known by UPN only, and tells them in words when they may not run an agent", async () => {
    const root = newRoot();
    await harness.post(
      harness.message(grace, "payroll when is payday", { kind: "channel", id: root }),
    );
    const refusal = await harness.connector.waitForText(
      "aren't allowed to run it yet",
      chain(root),
    );
    // A card with "Request access", and the agent's page for those who prefer the site.
    expect(JSON.stringify(refusal.activity)).toContain("/agents/payroll");
    expect(JSON.stringify(refusal.activity)).toContain('"title":"Request access"');
    const member = harness.connector.calls.find(
      (call) => call.method === "member" && call.activityId === grace.id,
    );
    expect(member?.conversationId).toBe("19:general-channel@thread.tacv2");
  });

  it("streams its answer in a 1:1 chat, then sends the final message", async () => {
    const activity = harness.message(ada, "helpdesk how do I print", { kind: "personal" });
    await harness.post(activity);
    const [final] = await answerIn(activity.conversation.id);
    const typing = harness.connector
      .posted(activity.conversation.id)
      .filter((call) => call.activity?.type === "typing");
    expect(typing[0]?.activity?.entities?.[0]).toMatchObject({
      type: "streaminfo",
      streamType: "streaming",
      streamSequence: 1,
    });
    expect(final?.activity?.entities?.[0]).toMatchObject({
      type: "streaminfo",
      streamType: "final",
    });
  });

  it("offers the agents a person may run as a card, and runs the one whose button is clicked", async () => {
    const root = newRoot();
    await harness.post(
      harness.message(ada, "my laptop will not start", { kind: "channel", id: root }),
    );
    const offer = await harness.connector.waitForText("switchboardAction", chain(root));
    const card = offer.activity?.attachments?.[0]?.content;
    expect(JSON.stringify(card)).toContain("IT helpdesk");
    const button = JSON.stringify(card).match(
      /"title":"Run helpdesk","data":\{"switchboardAction":"([0-9a-f-]{36})"\}/,
    )?.[1];
    expect(button).toBeDefined();
    // Ada's display name is hers to choose: it shows as written where the card settles.
    const named = { ...ada, name: "<at>Everyone</at> *Ada*" };
    const click = () => ({
      ...harness.message(named, "", { kind: "channel", root, mention: false }),
      text: undefined,
      replyToId: offer.id,
      value: { switchboardAction: button },
    });
    await harness.post(click());
    await answerIn(chain(root));
    // The card became what was chosen; a second click (a double click) starts nothing more.
    const settled = harness.connector
      .posted(chain(root))
      .find((call) => call.method === "update" && call.activityId === offer.id);
    expect(settled?.activity?.text).toContain("asked **helpdesk**");
    expect(settled?.activity?.text).toContain("&lt;at&gt;Everyone&lt;/at&gt; \\*Ada\\*");
    await harness.post(click());
    await harness.post(harness.message(ada, "thanks", { kind: "channel", root }));
    const answers = await answerIn(chain(root), 2);
    expect(answers).toHaveLength(2);
  });

  it("lists the agents a person may view in the message extension's search", async () => {
    const { status, body } = await harness.post(
      harness.invoke(ada, "composeExtension/query", {
        commandId: "searchAgents",
        parameters: [{ name: "query", value: "payroll" }],
      }),
    );
    expect(status).toBe(200);
    const found = JSON.stringify(body);
    expect(body?.composeExtension?.type).toBe("result");
    expect(found).toContain("Payroll");
    expect(found).toContain("may not run it yet");
    // Someone's words in a card show as written: Markdown escaped (cards render no HTML).
    expect(found).toContain("Answers payroll questions \\\\*for finance\\\\*");
    expect(found).not.toContain("Secret project");
  });

  it("refuses a search no field can store in words, and the extension stays up", async () => {
    // A NUL is refused at the intake for every activity (test/fuzz/teams.fuzz.test.ts), so
    // the search never reaches a database that cannot take it.
    const { status, body } = await harness.post(
      harness.invoke(ada, "composeExtension/query", {
        commandId: "searchAgents",
        parameters: [{ name: "query", value: "pay\u0000roll" }],
      }),
    );
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toMatch(/NUL|cannot store|can't store|character/i);
    const after = await harness.post(
      harness.invoke(ada, "composeExtension/query", {
        commandId: "searchAgents",
        parameters: [{ name: "query", value: "helpdesk" }],
      }),
    );
    expect(after.status).toBe(200);
    expect(JSON.stringify(after.body)).toContain("IT helpdesk");
  });

  it("unfurls the site's agent links only for agents the person may view", async () => {
    const link = (name: string) =>
      harness.invoke(ada, "composeExtension/queryLink", {
        url: `${harness.baseUrl}/agents/${name}`,
      });
    const helpdesk = await harness.post(link("helpdesk"));
    expect(JSON.stringify(helpdesk.body)).toContain("IT helpdesk");
    const secret = await harness.post(link("secret-project"));
    expect(secret.body?.composeExtension?.attachments).toEqual([]);
  });

  it("asks an agent about a message from the action command and posts the answer in its reply chain", async () => {
    const opened = await harness.post(
      harness.invoke(ada, "composeExtension/fetchTask", {
        commandId: "askAgent",
        commandContext: "message",
        messagePayload: {
          id: "1700000099",
          body: { contentType: "html", content: "<p>The printer on 3 is jammed</p>" },
        },
      }),
    );
    expect(JSON.stringify(opened.body?.task)).toContain("helpdesk");
    const submitted = await harness.post(
      harness.invoke(ada, "composeExtension/submitAction", {
        commandId: "askAgent",
        commandContext: "message",
        data: { agent: "helpdesk", request: "who fixes this?" },
        messagePayload: {
          id: "1700000099",
          body: { contentType: "html", content: "<p>The printer on 3 is jammed</p>" },
        },
      }),
    );
    expect(submitted.status).toBe(200);
    const [answer] = await answerIn(chain("1700000099"));
    expect(answer?.activity?.text).toContain("printer on 3");
  });

  it("tells a person in words when the message action asks an agent they may not run", async () => {
    const submitted = await harness.post(
      harness.invoke(grace, "composeExtension/submitAction", {
        commandId: "askAgent",
        commandContext: "message",
        data: { agent: "payroll", request: "is this right?" },
        messagePayload: {
          id: "1700000098",
          body: { contentType: "html", content: "<p>My payslip</p>" },
        },
      }),
    );
    expect(submitted.status).toBe(200);
    await harness.connector.waitForText("aren't allowed to run it yet", chain("1700000098"));
  });

  it("never shows the app password to Entra's double's neighbours: only in the token request", () => {
    const sent = JSON.stringify(harness.connector.calls);
    expect(sent).not.toContain(TEAMS_APP_PASSWORD);
    expect(harness.entra.requests.every((form) => form.client_secret === TEAMS_APP_PASSWORD)).toBe(
      true,
    );
  });

  it("finishes a reply in the same message after serve is killed mid-run and started again", {
    timeout: 240_000,
  }, async () => {
    const root = newRoot();
    await harness.post(
      harness.message(ada, "slow tell me about our expense policy in detail", {
        kind: "channel",
        id: root,
      }),
    );
    const working = await harness.connector.waitForText("working on it", chain(root));
    await new Promise((resolve) => setTimeout(resolve, 500)); // mid-answer: words every 250 ms
    await harness.killAndRestart();
    const [answer] = await eventually(async () => answerIn(chain(root)), 90_000);
    // The working message became the answer: one message, no second reply.
    expect(answer?.method).toBe("update");
    expect(answer?.activityId).toBe(working.id);
    expect(answer?.activity?.text).toContain("expense policy");
    expect(
      harness.connector.posted(chain(root)).filter((call) => call.method === "send"),
    ).toHaveLength(1);
  });
});
