import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SlackSocketModeDouble } from "./doubles/slack-socket-mode.js";
import type { SlackArgs, SlackCall } from "./doubles/slack-web-api.js";
import { eventually } from "./support/eventually.js";
import { APP_TOKEN, agentManifest, SlackHarness } from "./support/slack-harness.js";

/**
 * The `/agents` command, agent cards and their buttons, App Home and Socket Mode, from
 * signed Slack requests to a running `switchboard serve` whose Web API client talks to a
 * local double that fails the test on any call it was not told to expect.
 */

const BOT_SLACK = fileURLToPath(new URL("../bot/slack/", import.meta.url));
const USERS = [
  { id: "UADA", email: "ada@example.com", name: "Ada" },
  { id: "UBOB", email: "bob@example.com", name: "Bob" },
  { id: "UCAROL", email: "carol@example.com", name: "Carol" },
  { id: "UNOMAIL", name: "No Mail" },
];
const SKILLS = `  skills:
    - name: vpn
      description: Fixes VPN trouble
      examples: ["Why does my VPN keep dropping?", "Set up the VPN on a new laptop"]
`;

/** An agent behind the HTTP runtime that answers at once and reports what it cost. */
async function pricedAgent(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const input = JSON.parse(body).input;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          output: `Priced answer to "${input}"`,
          usage: { model: "m-1", input_tokens: 10, output_tokens: 5, cost_usd: 0.25 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent` };
}

let harness: SlackHarness;
let priced: { server: Server; url: string };
let tsCounter = 0;
const nextTs = () => `1700001${String(++tsCounter).padStart(3, "0")}.000100`;

const slack = () => harness.slack;
const events = () => harness.events;

/** What respond() sent back to the person (the command's or the click's response_url). */
async function nextResponse(count = 1): Promise<SlackArgs> {
  return eventually(async () => {
    const responses = slack().callsOf("response_url");
    expect(responses.length).toBeGreaterThanOrEqual(count);
    return responses[count - 1]?.args as SlackArgs;
  }, 20_000);
}

/** The card (section) of `name` and its button. */
function cardOf(blocks: unknown, name: string) {
  const sections = (
    (blocks ?? []) as { type: string; text?: { text: string }; accessory?: unknown }[]
  ).filter((block) => block.type === "section" && block.text?.text.includes(`\`${name}\``));
  expect(sections, `a card for ${name}`).toHaveLength(1);
  return sections[0] as {
    text: { text: string };
    accessory: { action_id: string; value?: string; url?: string; text: { text: string } };
  };
}

function click(
  user: string,
  button: { action_id: string; value?: string },
  extra: Record<string, unknown> = {},
) {
  return events().interaction({
    type: "block_actions",
    team: { id: slack().teamId },
    user: { id: user, team_id: slack().teamId },
    channel: { id: "C0GENERAL" },
    container: { type: "message", is_ephemeral: true, channel_id: "C0GENERAL" },
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
    ...extra,
  });
}

function submitForm(user: string, view: SlackArgs, text: string, viewId = `V${Date.now()}`) {
  return events().interaction({
    type: "view_submission",
    team: { id: slack().teamId },
    user: { id: user, team_id: slack().teamId },
    trigger_id: `trigger-submit-${Date.now()}`,
    view: {
      ...view,
      id: viewId,
      team_id: slack().teamId,
      state: { values: { request: { text: { type: "plain_text_input", value: text } } } },
    },
  });
}

/** The answer with its "View on Switchboard" footer, in `thread`. */
async function answerIn(thread: string): Promise<SlackCall> {
  return eventually(async () => {
    const answer = slack().calls.find(
      (call) =>
        (call.method === "chat.update" || call.method === "chat.postMessage") &&
        JSON.stringify(call.args.blocks ?? "").includes("View on Switchboard") &&
        (call.method === "chat.update" || call.args.thread_ts === thread),
    );
    expect(answer).toBeDefined();
    return answer as SlackCall;
  }, 30_000);
}

const RUN_METHODS = [
  "chat.postMessage",
  "assistant.threads.setStatus",
  "chat.startStream",
  "chat.update",
];

beforeAll(async () => {
  priced = await pricedAgent();
  harness = await SlackHarness.start({
    users: USERS,
    agents: {
      "helpdesk.yaml": agentManifest({
        name: "helpdesk",
        title: "IT helpdesk",
        run: ['"user:*"'],
        skills: SKILLS,
      }),
      "restricted.yaml": agentManifest({
        name: "restricted",
        title: "Payroll",
        description: "Answers payroll questions about VPN reimbursements",
        run: ["user:carol@example.com"],
      }),
      "secret.yaml": agentManifest({
        name: "secret",
        title: "Secret VPN agent",
        view: ["user:carol@example.com"],
        run: ["user:carol@example.com"],
      }),
      "priced.yaml": agentManifest({
        name: "priced",
        title: "Priced agent",
        description: "Costs money",
        runtime: `    type: http\n    url: ${priced.url}`,
        run: ["user:ada@example.com"],
      }),
    },
    // Naming an agent in a mention picks it for people who use it, or a featured one.
    commands: [["agents", "feature", "priced"]],
  });
}, 180_000);

afterEach(() => {
  const unexpected = [...slack().unexpected];
  slack().reset();
  expect(unexpected, "Slack Web API calls the test did not expect").toEqual([]);
});

afterAll(async () => {
  await harness?.close();
  await new Promise((resolve) => priced?.server.close(resolve));
});

describe("/agents", { timeout: 60_000 }, () => {
  it("explains itself for `/agents` and `/agents help`, only to the person", async () => {
    const response = await events().command("UADA", "/agents", "");
    expect(response.status).toBe(200);
    const help = await nextResponse();
    expect(help.response_type).toBe("ephemeral");
    // Slack shows the escaped `&lt;words&gt;` as `<words>`.
    expect(help.text).toContain("/agents search &lt;words&gt;");
    expect(help.text).toContain("/agents run &lt;agent&gt; &lt;request&gt;");
    await events().command("UADA", "/agents", "help");
    expect((await nextResponse(2)).text).toBe(help.text);
  });

  it("searches the agents the person may see, as cards with Run only where they may run", async () => {
    await events().command("UBOB", "/agents", "search vpn");
    const found = await nextResponse();
    expect(found.response_type).toBe("ephemeral");
    const blocks = JSON.stringify(found.blocks);
    expect(blocks).not.toContain("`secret`"); // Bob may not see it
    const helpdesk = cardOf(found.blocks, "helpdesk");
    expect(helpdesk.text.text).toMatch(
      /^\*<http[^|]+\/agents\/helpdesk\|IT helpdesk>\* `helpdesk`\nAnswers questions/,
    );
    expect(helpdesk.accessory).toMatchObject({
      text: { text: "Run" },
      action_id: expect.stringMatching(/^chat_action:/),
    });
    expect(helpdesk.accessory.value).toMatch(/^[0-9a-f-]{36}$/);
    const restricted = cardOf(found.blocks, "restricted");
    expect(restricted.accessory).toMatchObject({
      text: { text: "Request access" },
      url: expect.stringMatching(/\/agents\/restricted$/),
    });
    expect(blocks).toContain("Owner: team platform  ·  Runtime: demo");
  });

  it("shows one agent's card with its skills' example prompts", async () => {
    await events().command("UADA", "/agents", "helpdesk");
    const card = await nextResponse();
    const text = JSON.stringify(card.blocks);
    expect(text).toContain("Try asking:");
    expect(text).toContain("_Why does my VPN keep dropping?_  (vpn)");
    expect(text).toContain("_Set up the VPN on a new laptop_");
    expect(cardOf(card.blocks, "helpdesk").accessory.text.text).toBe("Run");
  });

  it("says plainly when an agent is unknown, or one the person cannot see", async () => {
    await events().command("UADA", "/agents", "nosuchagent");
    expect((await nextResponse()).text).toMatch(
      /^I couldn't find an agent called `nosuchagent` that you can see\. Try `\/agents search nosuchagent`/,
    );
    await events().command("UADA", "/agents", "secret");
    expect((await nextResponse(2)).text).toMatch(/couldn't find an agent called `secret`/);
    await events().command("UADA", "/agents", "run secret tell me");
    expect((await nextResponse(3)).text).toMatch(
      /I couldn't find an agent called `secret` that you can use/,
    );
  });

  it("refuses a run the person may not start, offers Request access, and posts nothing in the channel", async () => {
    await events().command("UBOB", "/agents", "run restricted what is my salary");
    const refusal = await nextResponse();
    expect(refusal.response_type).toBe("ephemeral");
    expect(refusal.text).toMatch(
      /You can see `restricted` but you aren't allowed to run it yet\. Ask its owners with the button below \(or on its page: http.*\/agents\/restricted\)/,
    );
    // The button files the request (test/slack-access-requests.test.ts follows it through).
    expect(JSON.stringify(refusal.blocks)).toContain('"text":"Request access"');
    expect(slack().callsOf("chat.postMessage")).toEqual([]);
  });

  it("tells a person Slack gives no email for who they are", async () => {
    await events().command("UNOMAIL", "/agents", "search vpn");
    expect((await nextResponse()).text).toMatch(/couldn't read your email address/);
  });

  it("runs `/agents run`: the request posted for all, naming the person, then the answer in its thread; the thread continues", async () => {
    slack().allow(...RUN_METHODS);
    const response = await events().command("UADA", "/agents", "run helpdesk my VPN drops at 5pm");
    expect(response.status).toBe(200);
    const request = await slack().firstCall("chat.postMessage");
    expect(request.args).toMatchObject({
      channel: "C0GENERAL",
      text: "<@UADA> asked *helpdesk*:\n>my VPN drops at 5pm",
    });
    expect(request.args.thread_ts).toBeUndefined();
    const thread = request.response?.ts as string;
    const answer = await answerIn(thread);
    expect(JSON.stringify(answer.args.blocks)).toContain(
      'You said: \\"my VPN drops at 5pm\\". This is turn 1',
    );
    const posts = slack().callsOf("chat.postMessage");
    expect(posts[1]?.args).toMatchObject({
      thread_ts: thread,
      text: expect.stringContaining("*helpdesk* is working on it"),
    });
    expect(slack().callsOf("response_url")).toEqual([]); // nothing else to tell the person

    slack().reset();
    slack().allow(...RUN_METHODS);
    await events().message("UADA", "and on Fridays too", nextTs(), { thread_ts: thread });
    const next = await answerIn(thread);
    expect(JSON.stringify(next.args.blocks)).toContain('\\"and on Fridays too\\". This is turn 2');
  });
});

describe("agent card buttons", { timeout: 60_000 }, () => {
  it("opens a form for the request on Run, and runs what is submitted in a new thread", async () => {
    await events().command("UADA", "/agents", "helpdesk");
    const run = cardOf((await nextResponse()).blocks, "helpdesk").accessory;
    slack().allow("views.open");
    const response = await click("UADA", run);
    expect(response.status).toBe(200);
    const opened = await slack().firstCall("views.open");
    expect(opened.args.trigger_id).toMatch(/^trigger-UADA-/);
    expect(opened.args.view).toMatchObject({
      type: "modal",
      callback_id: "run_agent_form",
      submit: { text: "Run" },
    });
    expect(JSON.stringify(opened.args.view.blocks)).toContain("What should helpdesk do?");

    slack().allow(...RUN_METHODS);
    const empty = await submitForm("UADA", opened.args.view, "  ");
    expect(await empty.json()).toEqual({
      response_action: "errors",
      errors: { request: "Write what the agent should do." },
    });
    const submitted = await submitForm("UADA", opened.args.view, "reset my laptop password");
    expect(submitted.status).toBe(200);
    expect(await submitted.text()).toBe(""); // the form closes
    const request = await slack().firstCall("chat.postMessage");
    expect(request.args).toMatchObject({
      channel: "C0GENERAL",
      text: "<@UADA> asked *helpdesk*:\n>reset my laptop password",
    });
    const answer = await answerIn(request.response?.ts as string);
    expect(JSON.stringify(answer.args.blocks)).toContain(
      '\\"reset my laptop password\\". This is turn 1',
    );
  });

  it("refuses the Run button to a person who may not run the agent, at the click and at submission", async () => {
    await events().command("UCAROL", "/agents", "restricted");
    const carolsRun = cardOf((await nextResponse()).blocks, "restricted").accessory;
    expect(carolsRun.text.text).toBe("Run");
    // Bob clicks the button Carol was shown: the button grants nothing, Bob's rights decide.
    await click("UBOB", carolsRun);
    const refusal = await nextResponse(2);
    expect(refusal).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(refusal.text).toMatch(/You can see `restricted` but you aren't allowed to run it yet/);
    expect(slack().callsOf("views.open")).toEqual([]);

    // Carol opens the form; Bob submits a copy of it.
    slack().allow("views.open");
    await click("UCAROL", carolsRun);
    const opened = await slack().firstCall("views.open");
    const forged = await submitForm("UBOB", opened.args.view, "pay me");
    expect(await forged.json()).toMatchObject({
      response_action: "errors",
      errors: { request: expect.stringMatching(/aren't allowed to run it yet/) },
    });
    expect(slack().callsOf("chat.postMessage")).toEqual([]);
  });

  it("runs a bare mention's suggested agent through the form, in the mention's own thread", async () => {
    slack().allow("chat.postMessage");
    const thread = nextTs();
    await events().mention("UADA", "", thread);
    const offer = await eventually(async () => {
      const [call] = slack().callsOf("chat.postMessage");
      expect(call?.args.blocks).toBeDefined();
      return call as SlackCall;
    });
    expect(offer.args.thread_ts).toBe(thread);
    expect(JSON.stringify(offer.args.blocks)).toContain("Here are agents you can run");
    slack().reset();
    slack().allow("views.open", ...RUN_METHODS);
    await click("UADA", cardOf(offer.args.blocks, "helpdesk").accessory, {
      container: { type: "message", message_ts: "1", channel_id: "C0GENERAL" },
    });
    const opened = await slack().firstCall("views.open");
    await submitForm("UADA", opened.args.view, "is the wifi down?");
    const request = await slack().firstCall("chat.postMessage");
    expect(request.args).toMatchObject({
      channel: "C0GENERAL",
      thread_ts: thread,
      text: "<@UADA> asked *helpdesk*:\n>is the wifi down?",
    });
    const answer = await answerIn(thread);
    expect(JSON.stringify(answer.args.blocks)).toContain('\\"is the wifi down?\\". This is turn 1');
  });

  it("answers a click on an unknown or edited button id with 'no longer works'", async () => {
    await click("UADA", {
      action_id: "chat_action:00000000",
      value: "00000000-0000-4000-8000-000000000000",
    });
    expect((await nextResponse()).text).toMatch(/This button no longer works/);
    await click("UADA", { action_id: "chat_action:x", value: "'; drop table chat_actions; --" });
    expect((await nextResponse(2)).text).toMatch(/This button no longer works/);
  });
});

describe("App Home", { timeout: 60_000 }, () => {
  it("publishes the person's runnable agents, recent sessions and spend this month", async () => {
    slack().allow(...RUN_METHODS);
    const thread = nextTs();
    await events().mention("UADA", "priced what does this cost", thread);
    await answerIn(thread);
    slack().reset();

    slack().allow("views.publish");
    const opened = await events().event({
      type: "app_home_opened",
      user: "UADA",
      channel: "D0ADA",
      tab: "home",
      ts: nextTs(),
    });
    expect(opened.response.status).toBe(200);
    const published = await slack().firstCall("views.publish");
    expect(published.args.user_id).toBe("UADA");
    expect(published.args.view.type).toBe("home");
    const texts = (
      published.args.view.blocks as { text?: { text: string }; elements?: { text: string }[] }[]
    ).map(
      (block) => block.text?.text ?? block.elements?.map((element) => element.text).join(" ") ?? "",
    );
    const month = new Date().toLocaleString("en", { month: "long", timeZone: "UTC" });
    expect(texts[0]).toBe("Switchboard for Ada");
    // Ada's runs: helpdesk twice by /agents run (two turns), once by each form; priced once.
    expect(texts[1]).toBe(`*Your spend in ${month}:* $0.25 over 5 runs`);
    expect(texts[3]).toBe("*Agents you can run* (3)");
    const agents = (texts[4] ?? "").split("\n");
    // By name; the built-in demo agent is everyone's; restricted and secret are not Ada's to run.
    expect(agents.map((line) => line.match(/`([a-z-]+)`/)?.[1])).toEqual([
      "demo",
      "helpdesk",
      "priced",
    ]);
    expect(agents[1]).toMatch(
      /^• \*<http[^|]+\/agents\/helpdesk\|IT helpdesk>\* `helpdesk`: Answers questions/,
    );
    expect(texts[5]).toMatch(/\/agents\|Browse the directory>/);
    expect(texts[7]).toBe("*Your recent sessions*");
    const sessions = (texts[8] ?? "").split("\n");
    expect(sessions).toHaveLength(4);
    expect(sessions[0]).toMatch(
      /^• \*priced\*: <http[^|]+\/sessions\/[0-9a-f-]{36}\|what does this cost> {2}· {2}<!date\^\d+\^/,
    );
    expect(sessions[1]).toMatch(/^• \*helpdesk\*: <[^|]+\|is the wifi down\?>/);
    expect(sessions[2]).toMatch(/^• \*helpdesk\*: <[^|]+\|reset my laptop password>/);
    expect(sessions[3]).toMatch(/^• \*helpdesk\*: <[^|]+\|my VPN drops at 5pm>/);
  });

  it("publishes nothing for the Messages tab, and a plain reason for someone it cannot identify", async () => {
    await events().event({
      type: "app_home_opened",
      user: "UADA",
      channel: "D0ADA",
      tab: "messages",
      ts: nextTs(),
    });
    slack().allow("views.publish");
    await events().event({
      type: "app_home_opened",
      user: "UNOMAIL",
      channel: "D0NOMAIL",
      tab: "home",
      ts: nextTs(),
    });
    const [published] = await eventually(async () => {
      const calls = slack().callsOf("views.publish");
      expect(calls).toHaveLength(1);
      return calls;
    });
    expect(published?.args.user_id).toBe("UNOMAIL");
    expect(JSON.stringify(published?.args.view.blocks)).toMatch(/couldn't read your email address/);
  });
});

describe("the Slack app manifest", () => {
  const manifest = parse(readFileSync(join(BOT_SLACK, "slack-app-manifest.yaml"), "utf8"));
  const source = readdirSync(BOT_SLACK)
    .filter((file) => file.endsWith(".ts"))
    .map((file) => readFileSync(join(BOT_SLACK, file), "utf8"))
    .join("\n");

  /** The bot scopes each Web API method the code calls needs. */
  const SCOPES: Record<string, string[]> = {
    "chat.postMessage": ["chat:write"],
    "chat.update": ["chat:write"],
    "chat.delete": ["chat:write"],
    "chat.startStream": ["chat:write"],
    "chat.appendStream": ["chat:write"],
    "chat.stopStream": ["chat:write"],
    "users.info": ["users:read", "users:read.email"],
    "users.lookupByEmail": ["users:read.email"],
    "assistant.threads.setStatus": ["assistant:write"],
    "reactions.add": ["reactions:write"],
    "views.open": [],
    "views.publish": [],
  };
  /** The subscriptions each event the code listens to needs. */
  const EVENTS: Record<string, { events: string[]; scopes: string[] }> = {
    app_mention: { events: ["app_mention"], scopes: ["app_mentions:read"] },
    message: {
      events: ["message.channels", "message.groups", "message.im"],
      scopes: ["channels:history", "groups:history", "im:history"],
    },
    app_home_opened: { events: ["app_home_opened"], scopes: [] },
  };

  it("names every scope the Web API methods the bot calls need", () => {
    const scopes: string[] = manifest.oauth_config.scopes.bot;
    const called = new Set(
      [
        ...source.matchAll(
          /\bclient\s*\.\s*(chat|users|views|assistant\.threads|conversations|reactions|files)\s*\.\s*(\w+)\(/g,
        ),
      ].map((match) => `${match[1]}.${match[2]}`),
    );
    expect(called.size).toBeGreaterThan(5);
    for (const method of called) {
      expect(SCOPES, `the scope of ${method} (add it here and to the manifest)`).toHaveProperty([
        method,
      ]);
      for (const scope of SCOPES[method] ?? []) expect(scopes, method).toContain(scope);
    }
    expect(scopes).toContain("commands");
  });

  it("subscribes to every event the bot listens to, the /agents command and interactivity, all at /slack/events", () => {
    const listened = [...source.matchAll(/app\.event\("(\w+)"/g)].map(
      (match) => match[1] as string,
    );
    expect(new Set(listened)).toEqual(new Set(Object.keys(EVENTS)));
    for (const event of listened) {
      for (const name of EVENTS[event]?.events ?? [])
        expect(manifest.settings.event_subscriptions.bot_events).toContain(name);
      for (const scope of EVENTS[event]?.scopes ?? [])
        expect(manifest.oauth_config.scopes.bot).toContain(scope);
    }
    const commands = [...source.matchAll(/export const AGENTS_COMMAND = "([^"]+)"/g)].map(
      (match) => match[1],
    );
    expect(
      manifest.features.slash_commands.map((command: { command: string }) => command.command),
    ).toEqual(commands);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.features.app_home).toMatchObject({
      home_tab_enabled: true,
      messages_tab_enabled: true,
    });
    const urls = [
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
      ...manifest.features.slash_commands.map((command: { url: string }) => command.url),
    ];
    expect(new Set(urls)).toEqual(new Set(["https://YOUR-SWITCHBOARD/slack/events"]));
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });
});

describe("Socket Mode", { timeout: 90_000 }, () => {
  let socketHarness: SlackHarness;
  let socket: SlackSocketModeDouble;

  beforeAll(async () => {
    socket = await SlackSocketModeDouble.start();
    socketHarness = await SlackHarness.start({
      users: USERS,
      agents: {
        "helpdesk.yaml": agentManifest({
          name: "helpdesk",
          title: "IT helpdesk",
          run: ['"user:*"'],
        }),
      },
      commands: [["agents", "feature", "helpdesk"]],
      env: { SLACK_APP_TOKEN: APP_TOKEN },
      beforeServe: async (double) => {
        // The app-level token opens the connection; its URL is the local WebSocket.
        double
          .allow("apps.connections.open")
          .on("apps.connections.open", () => ({ ok: true, url: socket.url }));
        return undefined;
      },
    });
  }, 180_000);

  afterAll(async () => {
    await socketHarness?.close();
    await socket?.close();
  });

  it("connects through SLACK_API_URL, acknowledges a mention over the socket and answers in its thread", async () => {
    const double = socketHarness.slack;
    await socket.connection();
    expect(double.callsOf("apps.connections.open")[0]?.args).toBeDefined();
    double.allow(...RUN_METHODS);
    const ts = nextTs();
    const envelope = socket.sendEvent({
      token: "legacy",
      team_id: double.teamId,
      api_app_id: "AAGENTS",
      type: "event_callback",
      event_id: "EvSOCKET0001",
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: double.teamId, user_id: double.botUserId, is_bot: true }],
      event: {
        type: "app_mention",
        user: "UADA",
        text: `<@${double.botUserId}> helpdesk over the socket`,
        ts,
        channel: "C0GENERAL",
        team: double.teamId,
        event_ts: ts,
      },
    });
    // The ack: the envelope's id sent back over the socket (Bolt adds an empty payload).
    await eventually(async () =>
      expect(socket.received.map((message) => message.envelope_id)).toContain(envelope),
    );
    const answer = await eventually(async () => {
      const call = double.calls.find(
        (c) =>
          (c.method === "chat.update" || c.method === "chat.postMessage") &&
          JSON.stringify(c.args.blocks ?? "").includes("View on Switchboard"),
      );
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    expect(double.callsOf("chat.postMessage")[0]?.args).toMatchObject({
      thread_ts: ts,
      text: expect.stringContaining("working on it"),
    });
    expect(JSON.stringify(answer.args.blocks)).toContain('\\"over the socket\\". This is turn 1');
    expect(double.unexpected).toEqual([]);
  });
});
