import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackArgs, SlackCall, SlackWebApiDouble } from "./doubles/slack-web-api.js";
import { eventually } from "./support/eventually.js";
import type { SlackEventSender } from "./support/slack-events.js";
import { agentManifest, SlackHarness } from "./support/slack-harness.js";

/**
 * Asking for access with a button, in Slack, against `switchboard serve`: Ada is refused a
 * run and the refusal carries "Request access"; her click opens a form starting from her
 * request's words; the agent's owner Alice gets a DM naming who asks and why, with Approve
 * and Deny; Mallory (not an owner) clicking changes nothing; Alice's Approve writes the
 * grant once however often it arrives, her message shows who decided, and Ada hears it in a
 * DM and may run the agent. Deny asks the owner why and tells the person. Every click is a
 * signed block_actions or view_submission; hostile reasons are shown as typed.
 */

let harness: SlackHarness;
let slack: SlackWebApiDouble;
let events: SlackEventSender;
let tsCounter = 0;
const nextTs = () => `1700200${String(++tsCounter).padStart(3, "0")}.000100`;

const ALLOWED = [
  "assistant.threads.setStatus",
  "chat.postMessage",
  "chat.startStream",
  "chat.update",
  "response_url",
  "users.lookupByEmail",
  "views.open",
];

const HOSTILE =
  "<!channel> see [x](javascript:alert(1)) *bold* <@UALICE> & <https://evil.example|bank>";

const json = (call: SlackCall | undefined) => JSON.stringify(call?.args ?? {});

type Button = { text: { text: string }; action_id: string; value: string };

function buttonsOf(call: SlackCall): Button[] {
  return ((call.args.blocks ?? []) as { elements?: Button[] }[]).flatMap((b) => b.elements ?? []);
}

function buttonOf(call: SlackCall, label: string): Button {
  const found = buttonsOf(call).find((b) => b.text.text === label);
  if (!found) throw new Error(`no ${label} button in ${json(call)}`);
  return found;
}

beforeAll(async () => {
  harness = await SlackHarness.start({
    users: [
      { id: "UADA", email: "ada@example.com", name: "Ada" },
      { id: "UEVE", email: "eve@example.com", name: "Eve" },
      { id: "UALICE", email: "alice@example.com", name: "Alice" },
      { id: "UBOB", email: "bob@example.com", name: "Bob" },
      { id: "UMAL", email: "mallory@example.com", name: "Mallory" },
      { id: "UCAROL", email: "carol@example.com", name: "Carol" },
      { id: "UDAN", email: "dan@example.com", name: "Dan" },
      { id: "UROOT", email: "root@example.com", name: "Root" },
    ],
    // A platform admin owns every agent: asked only about agents nobody else owns.
    env: { SWITCHBOARD_ADMINS: "root@example.com" },
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
      "vault.yaml": agentManifest({
        name: "vault",
        title: "Vault",
        runtime: "    type: demo\n    delay_ms: 10",
        owner: "team:vault",
        run: [],
      }),
    },
    commands: [
      ["agents", "feature", "ledger", "payroll", "vault"],
      ["authz", "grant", "alice@example.com", "admin", "team:finance"],
      ["authz", "grant", "bob@example.com", "admin", "team:finance"],
      // vault's team has an admin Slack does not know: nobody of its own can be reached.
      ["authz", "grant", "ghost@example.com", "admin", "team:vault"],
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

function click(
  user: string,
  button: Button,
  where: { channel: string; ts: string; thread?: string; ephemeral?: boolean },
) {
  return events.interaction({
    type: "block_actions",
    team: { id: slack.teamId },
    user: { id: user, team_id: slack.teamId },
    channel: { id: where.channel },
    // A button on an ephemeral message comes without the message (Slack keeps none).
    ...(where.ephemeral
      ? {}
      : { message: { ts: where.ts, ...(where.thread ? { thread_ts: where.thread } : {}) } }),
    container: {
      type: "message",
      message_ts: where.ts,
      channel_id: where.channel,
      ...(where.ephemeral ? { is_ephemeral: true } : {}),
    },
    trigger_id: `trigger-${user}-${Date.now()}`,
    response_url: slack.responseUrl,
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

/** Submits the modal a click opened, with `text` in its one field. */
function submit(user: string, opened: SlackCall, text: string) {
  const view = opened.args.view as SlackArgs;
  return events.interaction({
    type: "view_submission",
    team: { id: slack.teamId },
    user: { id: user, team_id: slack.teamId },
    trigger_id: `trigger-submit-${Date.now()}`,
    view: {
      ...view,
      id: `V${Date.now()}`,
      team_id: slack.teamId,
      state: { values: { answer: { text: { type: "plain_text_input", value: text } } } },
    },
  });
}

/** Waits for the newest views.open after `before` calls of it. */
async function opened(before: number): Promise<SlackCall> {
  return eventually(async () => {
    const call = slack.callsOf("views.open")[before];
    expect(call).toBeDefined();
    return call as SlackCall;
  }, 30_000);
}

/** A person asks an agent they may not run; answers the refusal with its button. */
async function refused(user: string, agent: string, request: string) {
  const thread = nextTs();
  await events.mention(user, `${agent} ${request}`, thread);
  const refusal = await eventually(async () => {
    const call = slack
      .callsOf("chat.postMessage")
      .find((c) => c.args.thread_ts === thread && json(c).includes("Request access"));
    expect(call).toBeDefined();
    return call as SlackCall;
  }, 30_000);
  return { thread, refusal, button: buttonOf(refusal, "Request access") };
}

/** The DM an owner got about a request from `email` (posted to the owner's user id). */
async function ownerDm(owner: string, email: string): Promise<SlackCall> {
  return eventually(async () => {
    const call = slack
      .callsOf("chat.postMessage")
      .find((c) => c.args.channel === owner && json(c).includes(email) && buttonsOf(c).length > 0);
    expect(call).toBeDefined();
    return call as SlackCall;
  }, 30_000);
}

describe("requesting access with a button in Slack", { timeout: 120_000 }, () => {
  it("files from a refusal, asks the owner in a DM, refuses a non-owner, approves once and lets the person run", async () => {
    slack.allow(...ALLOWED);
    const ask = await refused("UADA", "ledger", "close the books for March");
    const refusalText = json(ask.refusal);
    expect(refusalText).toContain("aren't allowed to run it yet");
    // Never a command line shown to a person.
    expect(refusalText).not.toMatch(/switchboard (authz|agents)/);
    // The button carries only an opaque id.
    expect(ask.button.value).toMatch(/^[0-9a-f-]{36}$/);

    // Ada's click opens a form that starts from her request's words.
    expect(
      (
        await click("UADA", ask.button, {
          channel: "C0GENERAL",
          ts: "1800000001.000001",
          thread: ask.thread,
        })
      ).status,
    ).toBe(200);
    const form = await opened(0);
    expect(json(form)).toContain("close the books for March");
    expect((await submit("UADA", form, HOSTILE)).status).toBe(200);

    // Her thread says so.
    await eventually(async () => {
      const said = slack
        .callsOf("chat.postMessage")
        .find((c) => c.args.thread_ts === ask.thread && json(c).includes("I asked the owners"));
      expect(said?.args.text).toContain("*ledger*");
    }, 30_000);

    // Alice, who owns ledger through team:finance, gets a DM naming who asks and why.
    const dm = await ownerDm("UALICE", "ada@example.com");
    const blocks = dm.args.blocks as { type: string; text?: { type: string; text: string } }[];
    const reason = blocks.find((b) => b.text?.text.startsWith("Reason:"));
    // The reason as typed, in a plain_text section: no mrkdwn, no mention, no link.
    expect(reason?.text?.type).toBe("plain_text");
    expect(reason?.text?.text).toContain("[x](javascript:alert(1)) *bold*");
    expect(json(dm)).not.toContain("<!channel>");
    expect(json(dm)).not.toContain("<@UALICE>");
    expect(json(dm)).not.toContain("<https://evil.example");
    expect(json(dm)).toContain("&lt;!channel&gt;");
    // The notification text names the agent, not the reason.
    expect(String(dm.args.text)).toContain("*ledger*");
    expect(String(dm.args.text)).not.toContain("javascript");
    const approve = buttonOf(dm, "Approve");
    const dmTs = dm.response?.ts as string;
    // Bob owns it too: he is asked as well.
    const bobs = await ownerDm("UBOB", "ada@example.com");

    // Mallory copies the button into a click of her own: refused, nothing changes.
    expect((await click("UMAL", approve, { channel: "C0GENERAL", ts: dmTs })).status).toBe(200);
    await eventually(async () => {
      expect(json(slack.callsOf("response_url").at(-1))).toContain(
        "You may not decide this request: only the owners of ledger may.",
      );
    });
    expect(slack.callsOf("chat.update")).toHaveLength(0);

    // Alice approves, twice (a double click): it applies once.
    await Promise.all([
      click("UALICE", approve, { channel: "UALICE", ts: dmTs }),
      click("UALICE", approve, { channel: "UALICE", ts: dmTs }),
    ]);
    await eventually(async () => {
      const settled = slack
        .callsOf("chat.update")
        .find((c) => String(c.args.text).startsWith("<@UALICE> approved"));
      expect(settled?.args.text).toBe("<@UALICE> approved the request to run *ledger*.");
      expect(json(settled)).toContain("Asked by: ada@example.com");
      expect(json(settled)).not.toContain("<!channel>");
    }, 30_000);
    await eventually(async () => {
      expect(json(slack.callsOf("response_url").at(-1))).toContain(
        "This request was already approved; nothing changed.",
      );
    });
    // Bob's copy shows the decision and who made it, its buttons gone.
    const bobsNow = slack
      .callsOf("chat.update")
      .find((c) => c.args.channel === "UBOB" && c.args.ts === bobs.response?.ts);
    expect(bobsNow?.args.text).toBe("This request to run *ledger* was approved.");
    expect(json(bobsNow)).toContain("Decided by: alice@example.com");
    expect(buttonsOf(bobsNow as SlackCall)).toEqual([]);
    // Ada hears it in a DM, once.
    const told = await eventually(async () => {
      const dms = slack.callsOf("chat.postMessage").filter((c) => c.args.channel === "UADA");
      expect(dms).toHaveLength(1);
      return dms[0] as SlackCall;
    }, 30_000);
    expect(told.args.text).toBe("Your request was approved: you may now run *ledger*.");
    expect(json(told)).toContain("Decided by: alice@example.com");

    // And she may run it now.
    const thread = nextTs();
    await events.mention("UADA", "ledger close the books for March", thread);
    await eventually(async () => {
      const answer = slack.calls.find(
        (c) =>
          JSON.stringify(c.args.blocks ?? "").includes("View on Switchboard") &&
          JSON.stringify(c.args.blocks).includes("close the books"),
      );
      expect(answer).toBeDefined();
    }, 30_000);
  });

  it("asks the owner why on Deny and tells the person, reason and all", async () => {
    slack.allow(...ALLOWED);
    const ask = await refused("UEVE", "payroll", "check my payslip");
    await click("UEVE", ask.button, {
      channel: "C0GENERAL",
      ts: "1800000002.000001",
      thread: ask.thread,
    });
    expect((await submit("UEVE", await opened(0), "my payslip looks wrong")).status).toBe(200);
    const dm = await ownerDm("UALICE", "eve@example.com");
    expect(json(dm)).toContain("my payslip looks wrong");
    const dmTs = dm.response?.ts as string;

    // Deny opens a form for the reason; the decision waits for it.
    await click("UALICE", buttonOf(dm, "Deny"), { channel: "UALICE", ts: dmTs });
    const why = await opened(1);
    expect(json(why)).toContain("Why not?");
    expect(slack.callsOf("chat.update")).toHaveLength(0);
    expect((await submit("UALICE", why, "payroll is *HR only* <!here>")).status).toBe(200);

    await eventually(async () => {
      const settled = slack.callsOf("chat.update").filter((c) => c.args.ts === dmTs);
      expect(settled.map((c) => c.args.text)).toContain(
        "<@UALICE> denied the request to run *payroll*.",
      );
    }, 30_000);
    const told = await eventually(async () => {
      const call = slack.callsOf("chat.postMessage").find((c) => c.args.channel === "UEVE");
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    expect(told.args.text).toBe("Your request to run *payroll* was denied.");
    const why2 = (told.args.blocks as { text?: { type: string; text: string } }[]).find((b) =>
      b.text?.text.startsWith("Why:"),
    );
    expect(why2?.text).toEqual({
      type: "plain_text",
      text: "Why: payroll is *HR only* &lt;!here&gt;",
      emoji: false,
    });

    // A second request while none waits is a new one; the first Deny stands.
    const again = await refused("UEVE", "payroll", "check my payslip");
    expect(again.button.value).not.toBe(ask.button.value);
  });
});

/** The newest ephemeral answer (response_url) carrying a "Request access" button. */
async function ephemeralRefusal(before: number): Promise<SlackCall> {
  return eventually(async () => {
    const call = slack
      .callsOf("response_url")
      .slice(before)
      .find((c) => json(c).includes("Request access"));
    expect(call).toBeDefined();
    return call as SlackCall;
  }, 30_000);
}

describe("Request access from /agents run and from a refused suggestion", {
  timeout: 120_000,
}, () => {
  it("answers /agents run with the button, only to the person; the form files it and the owners are asked", async () => {
    slack.allow(...ALLOWED);
    expect(
      (await events.command("UCAROL", "/agents", "run payroll sum my commissions")).status,
    ).toBe(200);
    const refusal = await ephemeralRefusal(0);
    expect(refusal.args.response_type).toBe("ephemeral");
    expect(json(refusal)).toContain("aren't allowed to run it yet");
    expect(json(refusal)).not.toMatch(/switchboard (authz|agents)/);
    // Nothing was posted for the channel to see.
    expect(slack.callsOf("chat.postMessage")).toEqual([]);
    const button = buttonOf(refusal, "Request access");
    expect(button.value).toMatch(/^[0-9a-f-]{36}$/);

    await click("UCAROL", button, {
      channel: "C0GENERAL",
      ts: "1800000003.000001",
      ephemeral: true,
    });
    const form = await opened(0);
    expect(json(form)).toContain("sum my commissions");
    expect((await submit("UCAROL", form, "quarter end")).status).toBe(200);
    // Asked privately: the answer goes to the bot's DM with her, not the channel.
    await eventually(async () => {
      const said = slack
        .callsOf("chat.postMessage")
        .find((c) => json(c).includes("I asked the owners"));
      expect(said?.args.channel).toBe("UCAROL");
    }, 30_000);
    await ownerDm("UALICE", "carol@example.com");
    await ownerDm("UBOB", "carol@example.com");
    // payroll's team has admins: the platform admin is not asked.
    expect(slack.callsOf("chat.postMessage").filter((c) => c.args.channel === "UROOT")).toEqual([]);
  });

  it("offers the button to someone whose click on another person's suggestion is refused", async () => {
    slack.allow(...ALLOWED);
    const thread = nextTs();
    await events.mention("UBOB", "close the books for April", thread);
    const suggestion = await eventually(async () => {
      const call = slack
        .callsOf("chat.postMessage")
        .find((c) => c.args.thread_ts === thread && json(c).includes("Which agent"));
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    // Each agent is a section with its "Run" button as the accessory.
    const sections = suggestion.args.blocks as { text?: { text: string }; accessory?: Button }[];
    const run = sections.find((b) => b.text?.text.includes("`ledger`"))?.accessory as Button;
    expect(run?.text.text).toBe("Run");
    const before = slack.callsOf("response_url").length;
    await click("UMAL", run, {
      channel: "C0GENERAL",
      ts: suggestion.response?.ts as string,
      thread,
    });
    const refusal = await ephemeralRefusal(before);
    expect(refusal.args.replace_original).toBe(false);
    expect(json(refusal)).toContain("aren't allowed to run it yet");
    buttonOf(refusal, "Request access");
    // Nothing ran and the suggestion still stands for Bob.
    expect(slack.callsOf("chat.update")).toEqual([]);
  });

  it("asks the platform admin about an agent whose owners Slack cannot reach", async () => {
    slack.allow(...ALLOWED);
    const ask = await refused("UCAROL", "vault", "open the vault");
    await click("UCAROL", ask.button, {
      channel: "C0GENERAL",
      ts: "1800000004.000001",
      thread: ask.thread,
    });
    expect((await submit("UCAROL", await opened(0), "audit")).status).toBe(200);
    await ownerDm("UROOT", "carol@example.com");
  });

  it("tells the decision in the thread where it was asked when Slack does not find the person by email", async () => {
    slack.allow(...ALLOWED);
    // Dan's profile has his email, but looking him up by it finds nobody (as when the app
    // lost users:read.email, or his address changed in the directory first).
    slack.on("users.lookupByEmail", (args) => {
      const users: Record<string, string> = {
        "alice@example.com": "UALICE",
        "bob@example.com": "UBOB",
        "root@example.com": "UROOT",
      };
      const id = users[String(args.email)];
      return id
        ? { ok: true, user: { id, team_id: slack.teamId, name: id, deleted: false } }
        : { ok: false, error: "users_not_found" };
    });
    const ask = await refused("UDAN", "ledger", "reconcile invoices");
    await click("UDAN", ask.button, {
      channel: "C0GENERAL",
      ts: "1800000005.000001",
      thread: ask.thread,
    });
    expect((await submit("UDAN", await opened(0), "month end")).status).toBe(200);
    const dm = await ownerDm("UALICE", "dan@example.com");
    await click("UALICE", buttonOf(dm, "Approve"), {
      channel: "UALICE",
      ts: dm.response?.ts as string,
    });
    const told = await eventually(async () => {
      const call = slack
        .callsOf("chat.postMessage")
        .find(
          (c) => c.args.thread_ts === ask.thread && json(c).includes("Your request was approved"),
        );
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    expect(told.args.channel).toBe("C0GENERAL");
    expect(json(told)).toContain("Asked by: dan@example.com");
    expect(slack.callsOf("chat.postMessage").filter((c) => c.args.channel === "UDAN")).toEqual([]);
  });
});
