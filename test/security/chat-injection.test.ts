import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackCall, SlackWebApiDouble } from "../doubles/slack-web-api.js";
import { eventually } from "../support/eventually.js";
import type { SlackEventSender } from "../support/slack-events.js";
import { agentManifest, SlackHarness } from "../support/slack-harness.js";

/**
 * Chat injection on Slack, as an attacker with an ordinary account (or a leaked signing
 * secret) would try it against a running `switchboard serve` whose Slack Web API client
 * talks to a local double that records everything posted.
 */

/** What the trickster agent answers: a broadcast, a mention and two links hiding their target. */
const TRICK_ANSWER =
  "<!channel> click <https://evil.example|your bank> or [bank](https://evil.example), <@U0ADMIN>";
const TRICK_ERROR = "<!here> the ledger is down, see <https://evil.example|the status page>";

/**
 * An agent behind the HTTP runtime that answers with Slack markup: at once (JSON), as a
 * stream of small deltas when asked to "stream", or with an error when asked to "fail".
 */
async function trickster(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const input = String(JSON.parse(body).input);
      if (input.includes("fail")) {
        res.writeHead(400, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ message: TRICK_ERROR }));
      }
      if (!input.includes("stream")) {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ output: TRICK_ANSWER }));
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const pieces = TRICK_ANSWER.match(/.{1,7}/g) ?? [];
      let at = 0;
      const next = () => {
        if (at < pieces.length) {
          res.write(`event: delta\ndata: ${JSON.stringify({ text: pieces[at++] })}\n\n`);
          return void setTimeout(next, 60);
        }
        res.end(`event: done\ndata: {}\n\n`);
      };
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent` };
}

let harness: SlackHarness;
let slack: SlackWebApiDouble;
let events: SlackEventSender;
let agent: { server: Server; url: string };
let tsCounter = 0;
const nextTs = () => `1700002${String(++tsCounter).padStart(3, "0")}.000100`;

beforeAll(async () => {
  agent = await trickster();
  harness = await SlackHarness.start({
    users: [
      { id: "UADA", email: "ada@example.com", name: "Ada" },
      { id: "UBOB", email: "bob@example.com", name: "Bob" },
      { id: "UMAL", email: "mallory@example.com", name: "Mallory" },
    ],
    agents: {
      "helpdesk.yaml": agentManifest({ name: "helpdesk", title: "IT helpdesk", run: ['"user:*"'] }),
      // Mallory's agent, named like the first word of many requests, that anyone may run.
      "please.yaml": agentManifest({
        name: "please",
        title: "Polite helper",
        owner: "user:mallory@example.com",
        run: ['"user:*"'],
      }),
      // Team sre's agent: its members may run it (everyone may see it).
      "deploys.yaml": agentManifest({
        name: "deploys",
        title: "Deploys",
        description: "Tells how deploys are going",
        owner: "team:sre",
        run: [],
      }),
      "trickster.yaml": agentManifest({
        name: "trickster",
        title: '"<!channel> *Payroll*"',
        description: '"Pays you. Click <https://evil.example|your bank> now <@U0ADMIN>"',
        runtime: `    type: http\n    url: ${agent.url}`,
        run: ['"user:*"'],
      }),
    },
    commands: [
      ["agents", "feature", "helpdesk"],
      ["authz", "grant", "bob@example.com", "member", "team:sre"],
    ],
  });
  ({ slack, events } = harness);
}, 180_000);

afterEach(() => {
  const unexpected = [...slack.unexpected];
  slack.setStreaming(false);
  slack.reset();
  expect(unexpected, "Slack Web API calls the test did not expect").toEqual([]);
});

afterAll(async () => {
  await harness?.close();
  await new Promise((resolve) => agent?.server.close(resolve));
});

/** Methods that put text in front of people. */
const POSTING = [
  "chat.postMessage",
  "chat.update",
  "chat.startStream",
  "chat.appendStream",
  "chat.stopStream",
  "response_url",
  "views.publish",
];
const RUN_METHODS = [
  "chat.postMessage",
  "assistant.threads.setStatus",
  "chat.startStream",
  "chat.appendStream",
  "chat.stopStream",
  "chat.delete",
  "chat.update",
];

/** Everything posted so far, as the JSON Slack received (texts, blocks, streamed Markdown). */
function posted(): string {
  return slack.calls
    .filter((call) => POSTING.includes(call.method))
    .map((call) => JSON.stringify(call.args))
    .join("\n");
}

/** Nothing posted pings anyone or hides where a link goes. */
function expectNoInjection(text: string): void {
  for (const markup of [
    "<!channel>",
    "<!here>",
    "<@U0ADMIN>",
    "|your bank>",
    "|the status page>",
    "](https://evil.example)",
  ]) {
    expect(text, `posted ${markup}`).not.toContain(markup);
  }
}

/** The answer with its "View on Switchboard" footer. */
async function finalAnswer(): Promise<SlackCall> {
  return eventually(async () => {
    const call = slack.calls.find(
      (c) =>
        ["chat.update", "chat.postMessage", "chat.stopStream"].includes(c.method) &&
        JSON.stringify(c.args.blocks ?? "").includes("View on Switchboard"),
    );
    expect(call).toBeDefined();
    return call as SlackCall;
  }, 30_000);
}

describe("text from agents and people, posted to Slack", { timeout: 60_000 }, () => {
  it("posts an agent's answer with its broadcast and mention escaped and its links showing their address", async () => {
    slack.allow(...RUN_METHODS);
    await events.command("UADA", "/agents", "run trickster hello");
    const answer = await finalAnswer();
    const blocks = JSON.stringify(answer.args.blocks);
    expect(blocks).toContain("&lt;!channel&gt; click your bank (https://evil.example)");
    expect(blocks).toContain("or bank (https://evil.example), &lt;@U0ADMIN&gt;");
    expect(String(answer.args.text)).toContain("&lt;!channel&gt;");
    expectNoInjection(posted());
  });

  it("streams an agent's answer escaped the same way, piece by piece", async () => {
    slack.setStreaming(true);
    slack.allow(...RUN_METHODS);
    await events.command("UADA", "/agents", "run trickster stream it");
    const stop = await eventually(async () => {
      const [call] = slack.callsOf("chat.stopStream");
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    const streamed = [
      ...slack.callsOf("chat.startStream"),
      ...slack.callsOf("chat.appendStream"),
      stop,
    ]
      .map((call) => call.args.markdown_text ?? "")
      .join("");
    expect(streamed).toBe(
      "&lt;!channel&gt; click your bank (https://evil.example) or bank (https://evil.example), &lt;@U0ADMIN&gt;",
    );
    expect(slack.callsOf("chat.startStream")).toHaveLength(1);
    expectNoInjection(posted());
  });

  it("posts an agent's error with its broadcast escaped", async () => {
    slack.allow(...RUN_METHODS);
    await events.command("UADA", "/agents", "run trickster fail now");
    const failure = await eventually(async () => {
      const call = slack.calls.find((c) => String(c.args.text).includes("couldn't finish"));
      expect(call).toBeDefined();
      return call as SlackCall;
    }, 30_000);
    expect(String(failure.args.text)).toContain("&lt;!here&gt; the ledger is down");
    expectNoInjection(posted());
  });

  it("shows an agent whose title and description carry Slack markup as text, in cards and App Home", async () => {
    await events.command("UADA", "/agents", "trickster");
    await events.command("UADA", "/agents", "search payroll");
    slack.allow("views.publish");
    await events.event({ type: "app_home_opened", user: "UADA", tab: "home", ts: nextTs() });
    await eventually(async () => {
      expect(slack.callsOf("response_url")).toHaveLength(2);
      expect(slack.callsOf("views.publish")).toHaveLength(1);
    });
    const shown = posted();
    expect(shown).toContain("&lt;!channel&gt; *Payroll*");
    expect(shown).toContain("Click &lt;https://evil.example|your bank&gt; now &lt;@U0ADMIN&gt;");
    expectNoInjection(shown);
  });

  it("echoes a person's own words back as text: the request quoted in the channel, the answer, a search", async () => {
    slack.allow(...RUN_METHODS);
    const words = "<!channel> see <https://evil.example|your bank>";
    await events.command("UADA", "/agents", `run helpdesk ${words}`);
    const answer = await finalAnswer();
    const request = slack.callsOf("chat.postMessage")[0];
    expect(request?.args.text).toBe(
      "<@UADA> asked *helpdesk*:\n>&lt;!channel&gt; see &lt;https://evil.example|your bank&gt;",
    );
    expect(JSON.stringify(answer.args.blocks)).toContain(
      'You said: \\"&lt;!channel&gt; see your bank (https://evil.example)\\"',
    );
    // A mention whose words Slack delivers as a real broadcast, and a search for them.
    const thread = nextTs();
    await events.mention("UADA", "helpdesk <!here> please", thread);
    await eventually(async () =>
      expect(JSON.stringify(slack.calls.map((c) => c.args))).toContain(
        'You said: \\"&lt;!here&gt; please\\"',
      ),
    );
    await events.command("UADA", "/agents", "search <!here> <@U0ADMIN>");
    await eventually(async () => expect(slack.callsOf("response_url")).toHaveLength(1));
    expect(slack.callsOf("response_url")[0]?.args.text).toContain("&lt;!here&gt; &lt;@U0ADMIN&gt;");
    expectNoInjection(posted());
  });
});

/** The first message the bot posted in `thread` (waiting for it). */
async function firstPostIn(thread: string): Promise<SlackCall> {
  return eventually(async () => {
    const call = slack.callsOf("chat.postMessage").find((c) => c.args.thread_ts === thread);
    expect(call).toBeDefined();
    return call as SlackCall;
  });
}

/** The agent cards of a suggestion, by agent name, with their Run buttons. */
function cards(offer: SlackCall): Map<string, { action_id: string; value: string }> {
  const found = new Map<string, { action_id: string; value: string }>();
  for (const block of offer.args.blocks as {
    text?: { text: string };
    accessory?: { action_id: string; value: string };
  }[]) {
    const name = block.text?.text.match(/`([a-z0-9-]+)`/)?.[1];
    if (name && block.accessory?.value) found.set(name, block.accessory);
  }
  return found;
}

/** What starting a run posts: a sign of life naming the agent. */
function workingOn(agent: string): SlackCall[] {
  return slack
    .callsOf("chat.postMessage")
    .filter((call) => String(call.args.text).includes(`*${agent}* is working on it`));
}

describe("an agent picked from a person's words", { timeout: 60_000 }, () => {
  it("ignores a reply in a thread whose agent someone else picked, and asks when it is addressed to the bot", async () => {
    slack.allow(...RUN_METHODS);
    const thread = nextTs();
    await events.mention("UMAL", "please what is the admin's password?", thread);
    await eventually(async () => expect(workingOn("please")).toHaveLength(1));
    await finalAnswer();
    slack.reset();
    slack.allow(...RUN_METHODS);
    // Bob answers Mallory in her thread: his words are not for her agent.
    await events.message("UBOB", "it is hunter2, keep it safe", nextTs(), { thread_ts: thread });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(slack.calls.filter((call) => POSTING.includes(call.method))).toEqual([]);
    // Addressed to the bot, he is asked which agent should take it.
    await events.message("UBOB", `<@${slack.botUserId}> is the VPN down?`, nextTs(), {
      thread_ts: thread,
    });
    const offer = await firstPostIn(thread);
    expect(offer.args.text).toMatch(/^Agents you can run: /);
    expect(workingOn("please")).toEqual([]);
  });

  it("does not run `please` for `@agents please reset my password` from someone who never used it: it asks, and one click picks it", async () => {
    slack.allow(...RUN_METHODS);
    const thread = nextTs();
    await events.mention("UADA", "please reset my password", thread);
    const offer = await firstPostIn(thread);
    expect(JSON.stringify(offer.args.blocks)).toContain("I haven't sent this to `please`");
    const offered = cards(offer);
    expect([...offered.keys()]).toEqual(expect.arrayContaining(["please", "helpdesk"]));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(workingOn("please")).toEqual([]);

    // Ada picks it deliberately: it runs with her request, without its name.
    const button = offered.get("please");
    await events.interaction({
      type: "block_actions",
      team: { id: slack.teamId },
      user: { id: "UADA", team_id: slack.teamId },
      channel: { id: "C0GENERAL" },
      message: { ts: offer.response?.ts, thread_ts: thread },
      container: { type: "message", message_ts: offer.response?.ts, channel_id: "C0GENERAL" },
      trigger_id: "trigger-please",
      actions: [{ type: "button", ...button, block_id: "b", action_ts: "1" }],
    });
    const answer = await finalAnswer();
    expect(JSON.stringify(answer.args.blocks)).toContain('You said: \\"reset my password\\"');

    // Now one she uses: naming it picks it.
    slack.reset();
    slack.allow(...RUN_METHODS);
    await events.mention("UADA", "please and my email too", nextTs());
    await eventually(async () => expect(workingOn("please")).toHaveLength(1));
    await finalAnswer();
  });

  it("lets an agent's owner, its team's members and, for featured ones, everyone pick it by name", async () => {
    slack.allow(...RUN_METHODS);
    await events.mention("UMAL", "please hello", nextTs());
    await events.mention("UBOB", "deploys how is the release going?", nextTs());
    await events.mention("UBOB", "helpdesk my screen is dark", nextTs());
    // The built-in demo agent (the embedded default's) is featured, for a newcomer's first try.
    await events.mention("UBOB", "demo hello", nextTs());
    await eventually(async () => {
      expect(workingOn("please")).toHaveLength(1);
      expect(workingOn("deploys")).toHaveLength(1);
      expect(workingOn("helpdesk")).toHaveLength(1);
      expect(workingOn("demo")).toHaveLength(1);
    });
    await eventually(async () =>
      expect(
        slack.calls.filter((c) => JSON.stringify(c.args.blocks ?? "").includes("View on")),
      ).toHaveLength(4),
    );
    // Ada may see team sre's agent but not run it: she is asked, and it is not offered.
    slack.reset();
    slack.allow(...RUN_METHODS);
    const thread = nextTs();
    await events.mention("UADA", "deploys how is the release going?", thread);
    const offer = await firstPostIn(thread);
    expect(JSON.stringify(offer.args.blocks)).toContain("I haven't sent this to `deploys`");
    expect(cards(offer).has("deploys")).toBe(false);
    expect(workingOn("deploys")).toEqual([]);
  });
});

/** The process still answers: a URL check through the intake, and its health. */
async function stillUp(): Promise<void> {
  const check = await events.post(
    JSON.stringify({ type: "url_verification", challenge: "still-here" }),
    "application/json",
  );
  expect(await check.json()).toEqual({ challenge: "still-here" });
  expect((await fetch(`${harness.baseUrl}/healthz`)).status).toBe(200);
}

describe("signed bodies Slack never sends", { timeout: 60_000 }, () => {
  it("answers an event body that is null, a number, a list or an event Bolt cannot read with 400, and stays up", async () => {
    const bodies: [string, RegExp][] = [
      ["null", /not a JSON object/],
      ["42", /not a JSON object/],
      ['["event_callback"]', /not a JSON object/],
      ['"event_callback"', /not a JSON object/],
      ["{}", /has no type/],
      ['{"type":"url_verification"}', /no challenge/],
      ['{"type":"event_callback"}', /has no event/],
      ['{"type":"event_callback","event":null}', /has no event/],
      [
        '{"type":"event_callback","event":{"type":"app_mention","channel":null}}',
        /channel is not text or an object/,
      ],
      [
        '{"type":"event_callback","event":{"type":"reaction_added","item":"C1"}}',
        /item is not an object/,
      ],
      ['{"type":"event_callback","event":{"type":"x"},"authorizations":5}', /not a list/],
    ];
    for (const [body, problem] of bodies) {
      const response = await events.post(body, "application/json");
      expect(response.status, body).toBe(400);
      expect(await response.text(), body).toMatch(problem);
    }
    await stillUp();
    expect(slack.calls.filter((call) => call.method !== "auth.test")).toEqual([]);
  });

  it("answers a form whose payload is null or not an interaction with 400, before Bolt reads it", async () => {
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const forms: [string, RegExp][] = [
      [form({ payload: "null" }), /not a Slack interaction/],
      [form({ payload: "7" }), /not a Slack interaction/],
      [form({ payload: "[]" }), /not a Slack interaction/],
      [form({ payload: "{not json" }), /not JSON/],
      [form({ payload: '{"type":"block_actions"}' }), /names no user/],
      [
        form({ payload: '{"type":"block_actions","user":{"id":"UADA"},"channel":null}' }),
        /channel/,
      ],
      [form({ payload: '{"type":"view_submission","user":{"id":"UADA"}}' }), /no view/],
      [form({ payload: '{"type":"block_actions","user":{"id":"UADA"},"actions":7}' }), /list/],
      ["payload=%7B%7D&payload=%7B%7D", /repeats a field/],
      [form({ hello: "there" }), /neither a slash command nor an interaction/],
    ];
    for (const [body, problem] of forms) {
      const response = await events.post(body, "application/x-www-form-urlencoded");
      expect(response.status, body).toBe(400);
      expect(await response.text(), body).toMatch(problem);
    }
    const plain = await events.post("null", "text/plain");
    expect(plain.status).toBe(415);
    // Unsigned, it is refused for that first, as before.
    const unsigned = await events.post(
      form({ payload: "null" }),
      "application/x-www-form-urlencoded",
      {
        signature: "v0=deadbeef",
      },
    );
    expect(unsigned.status).toBe(401);
    await stillUp();
    // A real command still goes through to Bolt.
    await events.command("UADA", "/agents", "help");
    const [help] = await slack.firstCall("response_url").then(() => slack.callsOf("response_url"));
    expect(String(help?.args.text)).toContain("/agents search");
  });

  it("refuses signed text no field can store, and acknowledges a click or form no handler takes", async () => {
    const mention = await events.post(
      events.mentionBody("UADA", "helpdesk reset\u0000me", "1733480000.000900", "EvNUL0000001"),
      "application/json",
    );
    expect(mention.status).toBe(400);
    expect(await mention.text()).toMatch(/event\.text contains a NUL character/);
    const nul = await events.command("UADA", "/agents", "run helpdesk \u0000");
    expect(nul.status).toBe(400);
    expect(await nul.text()).toMatch(/form's text contains a NUL character/);
    // Bolt's respond() and the form handlers threw on these after the 200.
    const nowhere = await events.command("UADA", "/agents", "help", { response_url: "Infinity" });
    expect(nowhere.status).toBe(400);
    expect(await nowhere.text()).toMatch(/response_url is not an http\(s\) address/);
    const stateless = await events.interaction({
      type: "view_submission",
      user: { id: "UADA" },
      view: { callback_id: "run_agent_form", private_metadata: "{}" },
    });
    expect(stateless.status).toBe(400);
    expect(await stateless.text()).toMatch(/no state\.values/);
    // Bolt answered these with a bare 404 after 3 s and an error line; Slack shows nothing now.
    const closed = await events.interaction({
      type: "view_closed",
      user: { id: "UADA" },
      view: { callback_id: "a_view_we_never_opened" },
    });
    expect(closed.status).toBe(200);
    const click = await events.interaction({
      type: "block_actions",
      user: { id: "UADA" },
      actions: [{ action_id: "an_old_button", value: "x" }],
    });
    expect(click.status).toBe(200);
    await stillUp();
  });
});
