import { describe, expect, it } from "vitest";
import type { ChatActionClick, ChatActionKind } from "../chat/index.js";
import { slackPlaces } from "./run-agent-actions.js";

/** Buttons stored before the chat core: their thread was a `place`, not a `conversation`. */
describe("buttons stored before the chat core", () => {
  it("reach the kind with their Slack thread as a conversation; newer ones pass as they are", async () => {
    const seen: Record<string, unknown>[] = [];
    const kind: ChatActionKind = {
      kind: "run_agent",
      singleUse: true,
      authorize: async (_principal, payload) => void seen.push(payload),
      handle: async (_click, payload) => void seen.push(payload),
    };
    const wrapped = slackPlaces(kind);
    const place = { team: "T1", channel: "C1", threadTs: "17.1", conversationKey: "T1:C1:17.1" };
    const principal = {
      kind: "user",
      userId: "u",
      email: "ada@example.com",
      via: "slack",
    } as const;
    await wrapped.authorize(principal, { agentName: "a", text: "hi", place });
    await wrapped.handle({} as ChatActionClick, { agentName: "a", text: "hi", place });
    const conversation = {
      threadKey: "T1:C1:17.1",
      target: { team: "T1", channel: "C1", threadTs: "17.1" },
    };
    expect(seen).toEqual([
      { agentName: "a", text: "hi", place, conversation },
      { agentName: "a", text: "hi", place, conversation },
    ]);
    const newer = { agentName: "a", text: "hi", conversation };
    await wrapped.handle({} as ChatActionClick, newer);
    expect(seen.at(-1)).toBe(newer);
  });
});
