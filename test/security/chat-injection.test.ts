import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackWebApiDouble } from "../doubles/slack-web-api.js";
import type { SlackEventSender } from "../support/slack-events.js";
import { agentManifest, SlackHarness } from "../support/slack-harness.js";

/**
 * Chat injection on Slack, as an attacker with an ordinary account (or a leaked signing
 * secret) would try it against a running `switchboard serve` whose Slack Web API client
 * talks to a local double that records everything posted.
 */

let harness: SlackHarness;
let slack: SlackWebApiDouble;
let events: SlackEventSender;

beforeAll(async () => {
  harness = await SlackHarness.start({
    users: [{ id: "UADA", email: "ada@example.com", name: "Ada" }],
    agents: {
      "helpdesk.yaml": agentManifest({ name: "helpdesk", title: "IT helpdesk", run: ['"user:*"'] }),
    },
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
});
