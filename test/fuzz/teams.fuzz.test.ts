import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsMember } from "../doubles/bot-connector.js";
import { agentManifest } from "../support/slack-harness.js";
import { type Activity, TeamsHarness } from "../support/teams-harness.js";
import {
  answerProblem,
  FUZZ_SEED,
  fuzzRuns,
  nastyJson,
  nastyString,
  toJsonText,
} from "./arbitraries.js";

/**
 * The Teams bot's `/api/messages` given generated activities, each with a valid Bot
 * Connector token so it gets past the JWT check to what reads the activity: messages in
 * channels, group chats and 1:1 chats with nasty text and mentions, message-extension and
 * card invokes with made-up values, activities of other types, and fields of the wrong type
 * or missing. Every answer is a success or a 4xx in words, within 15 s; the process stays
 * up; and no activity fails after its 200 (nothing in the error log).
 */

const ada: TeamsMember = {
  id: "29:1ada",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000000ada1",
  name: "Ada Lovelace",
  email: "ada@example.com",
  userPrincipalName: "ada@example.com",
};
const REQUEST_TIMEOUT_MS = 15_000;

describe("generated Teams activities", { timeout: 400_000 }, () => {
  let harness: TeamsHarness;

  beforeAll(async () => {
    harness = await TeamsHarness.start({
      members: [ada],
      agents: {
        "helpdesk.yaml": agentManifest({
          name: "helpdesk",
          title: "IT helpdesk",
          run: ['"user:*"'],
        }),
      },
      commands: [["agents", "feature", "helpdesk"]],
    });
  }, 300_000);

  afterAll(async () => {
    await harness?.close();
  });

  const text = fc.oneof(
    fc.constantFrom("helpdesk reset my VPN", "helpdesk", ""),
    nastyString,
    nastyString.map((s) => `helpdesk ${s}`),
  );
  const kind = fc.constantFrom("channel" as const, "personal" as const, "groupChat" as const);

  /** A real activity with some of its fields replaced by generated ones, or dropped. */
  function mutated(base: fc.Arbitrary<Activity>): fc.Arbitrary<Activity> {
    const field = fc.constantFrom(
      "text",
      "from",
      "conversation",
      "recipient",
      "entities",
      "value",
      "name",
      "type",
      "serviceUrl",
      "channelData",
      "replyToId",
      "attachments",
      "id",
      "textFormat",
    );
    return fc
      .tuple(
        base,
        fc.array(fc.tuple(field, fc.option(nastyJson, { freq: 4, nil: undefined })), {
          maxLength: 3,
        }),
      )
      .map(([activity, changes]) => {
        const copy: Activity = { ...activity };
        for (const [name, value] of changes) {
          // serviceUrl must stay the token's: another would be refused (401) before parsing.
          if (name === "serviceUrl") continue;
          if (value === undefined) delete copy[name];
          else copy[name] = value;
        }
        return copy;
      });
  }

  const message = fc
    .tuple(text, kind, fc.boolean())
    .map(([t, k, mention]) => harness.message(ada, t, { kind: k, mention }));
  const invoke = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          "composeExtension/query",
          "composeExtension/queryLink",
          "composeExtension/fetchTask",
          "composeExtension/submitAction",
          "adaptiveCard/action",
          "task/fetch",
          "task/submit",
        ),
        nastyString,
      ),
      fc.oneof(
        fc.record(
          {
            commandId: fc.oneof(fc.constantFrom("searchAgents", "askAgent"), nastyString),
            parameters: fc.oneof(
              fc.array(
                fc.record({ name: fc.constantFrom("query", "searchQuery"), value: nastyString }),
              ),
              nastyJson,
            ),
            url: fc.oneof(fc.constant("http://127.0.0.1/agents/helpdesk"), nastyString),
            action: fc.record(
              {
                type: fc.constantFrom("Action.Execute", "Action.Submit"),
                verb: nastyString,
                data: nastyJson,
              },
              { requiredKeys: [] },
            ),
            data: nastyJson,
            messagePayload: fc.record(
              { body: fc.record({ content: nastyString }) },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        nastyJson,
      ),
      kind,
    )
    .map(([name, value, k]) => harness.invoke(ada, name, value as Activity, k));
  const other = fc
    .tuple(
      fc.constantFrom(
        "conversationUpdate",
        "messageReaction",
        "installationUpdate",
        "event",
        "typing",
        "messageUpdate",
      ),
      message,
    )
    .map(([type, base]) => ({ ...base, type }));

  it("refuses an activity the SDK cannot read or whose text no field can store, in words", async () => {
    const update: Activity = {
      ...harness.message(ada, "edited", { kind: "channel" }),
      type: "messageUpdate",
    };
    delete update.channelData;
    const refused = await harness.post(update);
    expect(refused.status).toBe(400);
    expect(refused.body?.error).toMatch(/messageUpdate activity has no channelData\.eventType/);
    const nul = await harness.post(
      harness.message(ada, "helpdesk reset\u0000me", { kind: "personal" }),
    );
    expect(nul.status).toBe(400);
    expect(nul.body?.error).toMatch(/activity's text contains a NUL character/);
  });

  it("answers every authenticated activity with a success or a 4xx in words, and none fails after its 200", async () => {
    const activity = fc.oneof(
      { weight: 5, arbitrary: mutated(message) },
      { weight: 4, arbitrary: mutated(invoke) },
      { weight: 1, arbitrary: mutated(other) },
      { weight: 1, arbitrary: nastyJson.map((value) => ({ value })) },
    );
    await fc.assert(
      fc.asyncProperty(activity, async (generated) => {
        const body = toJsonText(generated);
        let response: Response;
        try {
          response = await fetch(`${harness.baseUrl}/api/messages`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${harness.token()}`,
            },
            body,
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
        } catch (error) {
          expect.fail(
            `no answer (${(error as Error).message}); exit: ${JSON.stringify(harness.serve.exit)}`,
          );
        }
        expect(
          answerProblem(response.status, await response.text()),
          body.slice(0, 300),
        ).toBeUndefined();
        expect(harness.serve.exit).toBeUndefined();
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(250), endOnFailure: true },
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(harness.serve.exit).toBeUndefined();
    const failures = `${harness.serve.stdout}\n${harness.serve.stderr}`
      .split("\n")
      .filter((line) => /"level":(50|60)/.test(line));
    expect(failures.map((line) => line.slice(0, 800))).toEqual([]);
    expect((await fetch(`${harness.baseUrl}/readyz`)).status).toBe(200);
  });
});
