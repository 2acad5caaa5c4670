import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentManifest, SlackHarness } from "../support/slack-harness.js";
import {
  answerProblem,
  bodyText,
  FUZZ_SEED,
  fuzzRuns,
  nastyJson,
  nastyString,
  toJsonText,
} from "./arbitraries.js";

/**
 * Slack's intake given generated requests, each signed properly so it gets past the
 * signature check to the parsers behind it: Events API bodies (mentions, messages, App Home,
 * any JSON), `/agents` slash commands and interactions (button clicks, form submissions with
 * made-up hidden state). Every answer is a success or a 4xx in words, within 15 s; the
 * process stays up; and no event fails after its 200 (nothing in the error log).
 */

const USERS = [
  { id: "UADA", email: "ada@example.com", name: "Ada" },
  { id: "UMAL", email: "mallory@example.com", name: "Mallory" },
];
const REQUEST_TIMEOUT_MS = 15_000;

/** What Slack's methods answer for: everything the bot may post or open while fuzzed. */
const SLACK_METHODS = [
  "chat.postMessage",
  "chat.postEphemeral",
  "chat.update",
  "chat.delete",
  "chat.startStream",
  "chat.appendStream",
  "chat.stopStream",
  "assistant.threads.setStatus",
  "views.open",
  "views.update",
  "views.publish",
  "conversations.open",
  "conversations.replies",
];

const user = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("UADA", "UMAL", "UNOBODY") },
  { weight: 1, arbitrary: nastyString },
);
const text = fc.oneof(
  fc.constantFrom("helpdesk reset my VPN", "helpdesk", "", "help"),
  nastyString,
  nastyString.map((s) => `helpdesk ${s}`),
);
const ts = fc.oneof(fc.constant("1733480000.000100"), nastyString, fc.double().map(String));

describe("generated Slack requests", { timeout: 400_000 }, () => {
  let harness: SlackHarness;

  beforeAll(async () => {
    harness = await SlackHarness.start({
      users: USERS,
      agents: {
        "helpdesk.yaml": agentManifest({
          name: "helpdesk",
          title: "IT helpdesk",
          run: ['"user:*"'],
        }),
      },
      commands: [["agents", "feature", "helpdesk"]],
    });
    harness.slack.allow(...SLACK_METHODS);
  }, 300_000);

  afterAll(async () => {
    await harness?.close();
  });

  /** What is wrong with the answer to one signed request, or undefined. */
  async function sendSigned(body: string, contentType: string): Promise<string | undefined> {
    const timestamp = Math.floor(Date.now() / 1000);
    let response: Response;
    try {
      response = await fetch(`${harness.baseUrl}/slack/events`, {
        method: "POST",
        headers: {
          "content-type": contentType,
          "x-slack-request-timestamp": String(timestamp),
          "x-slack-signature": harness.events.sign(body, timestamp),
        },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      return `no answer (${(error as Error).message}); exit: ${JSON.stringify(harness.serve.exit)}`;
    }
    return answerProblem(response.status, await response.text());
  }

  const event = fc
    .record(
      {
        type: fc.oneof(
          fc.constantFrom("app_mention", "message", "app_home_opened", "reaction_added"),
          nastyString,
        ),
        user,
        text: fc.oneof(
          text.map((t) => `<@${"UBOT"}> ${t}`),
          text,
        ),
        ts,
        thread_ts: ts,
        channel: fc.oneof(fc.constantFrom("C0GENERAL", "D0DIRECT"), nastyString),
        channel_type: fc.constantFrom("channel", "im", "group", "mpim"),
        subtype: fc.constantFrom("bot_message", "message_changed", "file_share"),
        bot_id: nastyString,
        tab: fc.constantFrom("home", "messages"),
        blocks: nastyJson,
        files: nastyJson,
      },
      { requiredKeys: ["type"] },
    )
    .chain((e) =>
      fc.record({
        event: fc.constant(e),
        extra: fc.dictionary(nastyString, nastyJson, { maxKeys: 2 }),
      }),
    )
    .map(({ event: e, extra }) => ({ ...e, ...extra }));

  const eventBody = fc.oneof(
    {
      weight: 6,
      arbitrary: event.map((e) =>
        toJsonText(
          JSON.parse(
            harness.events.eventBody(
              e as Record<string, unknown>,
              `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
            ),
          ),
        ),
      ),
    },
    {
      weight: 3,
      arbitrary: bodyText(
        fc.record(
          {
            type: fc.constantFrom("event_callback", "url_verification", "app_rate_limited"),
            event: nastyJson,
            challenge: nastyJson,
            authorizations: nastyJson,
          },
          { requiredKeys: [] },
        ),
      ),
    },
  );

  const command = fc
    .record({
      user_id: user,
      text: text,
      command: fc.oneof(
        { weight: 4, arbitrary: fc.constant("/agents") },
        { weight: 1, arbitrary: nastyString },
      ),
      channel_id: fc.oneof(fc.constant("C0GENERAL"), nastyString),
      trigger_id: nastyString,
      response_url: fc.oneof(fc.constant("RESPONSE_URL"), nastyString),
    })
    .map((fields) => {
      const form = new URLSearchParams({
        token: "legacy-verification-token",
        team_id: harness.events.teamId,
        api_app_id: "AAGENTS",
        ...fields,
        response_url:
          fields.response_url === "RESPONSE_URL" ? harness.events.responseUrl : fields.response_url,
      });
      return form.toString();
    });

  const action = fc.record(
    {
      action_id: fc.oneof(
        fc.constantFrom(
          "chat_action",
          "chat_action:run",
          "open_link",
          "run_agent",
          "app_home_open",
        ),
        nastyString,
      ),
      value: fc.oneof(nastyString, nastyJson.map(toJsonText)),
      block_id: nastyString,
      type: fc.constantFrom("button", "static_select"),
    },
    { requiredKeys: ["action_id"] },
  );
  const interaction = fc
    .oneof(
      fc.record({
        type: fc.constant("block_actions"),
        user: fc.record({ id: user }),
        team: fc.constant({ id: "T0TEAM" }),
        channel: fc.constant({ id: "C0GENERAL" }),
        trigger_id: nastyString,
        actions: fc.oneof(
          { weight: 4, arbitrary: fc.array(action, { maxLength: 2 }) },
          { weight: 1, arbitrary: nastyJson },
        ),
        message: fc.record({ ts, thread_ts: ts, text: nastyString }, { requiredKeys: [] }),
      }),
      fc.record({
        type: fc.constantFrom("view_submission", "view_closed"),
        user: fc.record({ id: user }),
        view: fc.record(
          {
            callback_id: fc.oneof(
              fc.constantFrom("chat_action_input", "run_agent_form"),
              nastyString,
            ),
            private_metadata: fc.oneof(nastyString, nastyJson.map(toJsonText)),
            state: fc.record({ values: nastyJson }),
          },
          { requiredKeys: [] },
        ),
      }),
      nastyJson.map((value) =>
        value && typeof value === "object"
          ? { type: "block_actions", user: { id: "UADA" }, ...value }
          : value,
      ),
    )
    .map((payload) => new URLSearchParams({ payload: toJsonText(payload) }).toString());

  it("answers every signed request with a success or a 4xx in words, and no event fails after its 200", async () => {
    const request = fc.oneof(
      { weight: 5, arbitrary: eventBody.map((body) => ({ body, type: "application/json" })) },
      {
        weight: 3,
        arbitrary: command.map((body) => ({ body, type: "application/x-www-form-urlencoded" })),
      },
      {
        weight: 4,
        arbitrary: interaction.map((body) => ({ body, type: "application/x-www-form-urlencoded" })),
      },
    );
    await fc.assert(
      fc.asyncProperty(request, async ({ body, type }) => {
        const problem = await sendSigned(body, type);
        expect(problem, body.slice(0, 300)).toBeUndefined();
        expect(harness.serve.exit).toBeUndefined();
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(300), endOnFailure: true },
    );
    // Events are handled after their 200: give the last ones time, then read the log.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(harness.serve.exit).toBeUndefined();
    const failures = `${harness.serve.stdout}\n${harness.serve.stderr}`
      .split("\n")
      .filter((line) => /"level":(50|60)/.test(line))
      // The double answers user_not_found for ids Slack never sends (it knows two people);
      // Switchboard logging that lookup failure is right.
      .filter((line) => !line.includes("user_not_found"));
    expect(failures.map((line) => line.slice(0, 800))).toEqual([]);
    expect((await fetch(`${harness.baseUrl}/readyz`)).status).toBe(200);
  });
});
