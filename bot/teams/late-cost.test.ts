import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BotConnectorDouble, type ConnectorCall } from "../../test/doubles/bot-connector.js";
import { EntraTokenDouble } from "../../test/doubles/entra-token.js";
import { eventually } from "../../test/support/eventually.js";
import type { ChatCore } from "../chat/index.js";
import { type ChatFixture, useChatFixture } from "../chat/testing/chat-fixture.js";
import { BotTokens } from "./bot-token.js";
import type { TeamsTarget } from "./teams-deps.js";
import { TeamsSurface } from "./teams-surface.js";

/**
 * A Teams reply's cost line follows the run's one figure: proxy spend booked to the run
 * after its answer was sent updates the answer's activity (Bot Connector PUT
 * /v3/conversations/{id}/activities/{activityId}) to the new cost, in a channel's reply
 * chain and in a 1:1 chat's streamed answer; nothing is updated when the figure did not
 * change; an update the connector refuses is logged and made at the next check. Real chat
 * core, database and runs engine; Teams is the Bot Connector and Entra doubles.
 */
const TENANT = "tenant-late-cost";
const APP = { appId: "app-late-cost", appPassword: "app-password-late-cost" };
const fixture = useChatFixture();
let chat: ChatFixture;
let entra: EntraTokenDouble;
let connector: BotConnectorDouble;
let core: ChatCore<TeamsTarget>;
const warnings: string[] = [];
let chain = 0;

beforeAll(async () => {
  chat = fixture();
  entra = await EntraTokenDouble.start({ tenantId: TENANT, ...APP });
  connector = await BotConnectorDouble.start(entra, [], TENANT);
  const tokens = new BotTokens({ ...APP, tokenUrl: entra.tokenUrl });
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
  // Rechecks at 0.4 s and 1.2 s after the answer, instead of 3 s and 15 s.
  core = chat.openCore(new TeamsSurface({ tokens }), { costRechecksMs: [400, 1_200], logger });
});

afterEach(() => {
  connector.verify();
  warnings.length = 0;
});

afterAll(async () => {
  await connector?.close();
  await entra?.close();
});

/** Carol asks vpn-helper; answers the activity carrying the answer, its id and the run's id. */
async function askAndWaitForAnswer(personal = false) {
  chain += 1;
  const conversationId = personal
    ? `a:1personal-carol-${chain}`
    : `19:late@thread.tacv2;messageid=17000000${chain}`;
  const target: TeamsTarget = { serviceUrl: connector.serviceUrl, conversationId, personal };
  const principal = chat.people.get("carol");
  if (!principal) throw new Error("no carol");
  await core.flow.run({
    principal,
    askerRef: "29:carol",
    agentName: "vpn-helper",
    text: `my VPN drops, take ${chain}`,
    conversation: { threadKey: conversationId, target },
    deliveryId: `teams-late-cost-${chain}`,
  });
  const answer = await eventually(async () => {
    const found = connector
      .posted(conversationId)
      .find((call) => String(call.activity?.text).includes("[View on Switchboard]"));
    if (!found) throw new Error("no answer yet");
    return found;
  });
  // A channel's answer updates the working message; a 1:1 chat's is the stream's final message.
  const answerId = (answer.method === "update" ? answer.activityId : answer.id) as string;
  const sessionId = String(answer.activity?.text).match(/\/sessions\/([0-9a-f-]+)\)/)?.[1] ?? "";
  const { runs } = await chat.runs.session(principal, sessionId);
  return { answer, answerId, conversationId, runId: runs[0]?.id ?? "" };
}

/** Updates of the answer's activity after it was shown with its first cost. */
function editsOf(answerId: string, answer: ConnectorCall): ConnectorCall[] {
  const shownAt = connector.calls.indexOf(answer);
  return connector.updatesOf(answerId).filter((call) => connector.calls.indexOf(call) > shownAt);
}

describe("a Teams reply's cost after late proxy spend", () => {
  it("updates the answer's cost line in a channel when the run's proxy spend lands after it was sent", async () => {
    const { answer, answerId, runId } = await askAndWaitForAnswer();
    expect(answer.activity?.text).toMatch(/take 1[\s\S]*\n\n\[View on Switchboard\]\(/);
    await chat.bookLateProxySpend(runId, 0.0123);
    const edit = await eventually(async () => {
      const [found] = editsOf(answerId, answer);
      if (!found) throw new Error("not updated yet");
      return found;
    });
    expect(edit.activity).toEqual({
      ...answer.activity,
      text: String(answer.activity?.text).replace("\n\n[View", "\n\n$0.01 · [View"),
    });
    expect((await chat.runs.runById(runId))?.costUsd).toBeCloseTo(0.0123, 8);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(editsOf(answerId, answer)).toHaveLength(1);
  });

  it("updates a 1:1 chat's streamed answer the same way, as a plain message", async () => {
    const { answer, answerId, runId } = await askAndWaitForAnswer(true);
    expect(answer.method).toBe("send");
    expect(answer.activity?.entities?.[0]).toMatchObject({ streamType: "final" });
    await chat.bookLateProxySpend(runId, 0.5);
    const edit = await eventually(async () => {
      const [found] = editsOf(answerId, answer);
      if (!found) throw new Error("not updated yet");
      return found;
    });
    expect(edit.activity?.text).toContain("$0.50 · [View on Switchboard]");
    expect(edit.activity?.entities).toBeUndefined();
  });

  it("updates nothing when the cost did not change", async () => {
    const { answer, answerId } = await askAndWaitForAnswer();
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect(editsOf(answerId, answer)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("logs an update the connector refuses, and makes it at the next check", async () => {
    const { answer, answerId, runId } = await askAndWaitForAnswer();
    connector.refuseUpdates(1);
    await chat.bookLateProxySpend(runId, 0.25);
    const edit = await eventually(async () => {
      const done = editsOf(answerId, answer).filter((call) => !call.refused);
      if (done.length === 0) throw new Error("not updated yet");
      return done[0] as ConnectorCall;
    });
    expect(edit.activity?.text).toContain("$0.25 · [View on Switchboard]");
    expect(editsOf(answerId, answer).filter((call) => call.refused === 429)).toHaveLength(1);
    expect(warnings.join("\n")).toMatch(/could not edit the chat reply's cost/);
    expect(warnings.join("\n")).toContain(runId);
  });
});
