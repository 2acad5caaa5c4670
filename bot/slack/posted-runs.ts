import type { webApi } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import type { ChatConversation } from "../chat/index.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import { type SlackConversation, type SlackDeps, slackConversation } from "./slack-deps.js";

/**
 * Posts a request where everyone can see it, as the bot naming the person who asked, and runs
 * it in that message's thread (or in `conversation`'s thread when the request came from one),
 * so the answer lands where the request was made. `deliveryKey` makes it happen once. Answers
 * a refusal when the bot cannot post there (a channel it was not invited to).
 */
export async function postAndRun(
  deps: SlackDeps,
  client: webApi.WebClient,
  request: {
    principal: UserPrincipal;
    slackUser: string;
    team: string;
    /** A channel, or the person's user id: the bot's DM with them (App Home has no channel). */
    channel: string;
    /** Run in this existing thread instead of starting one. */
    conversation?: ChatConversation<SlackConversation> | undefined;
    agentName: string;
    text: string;
    deliveryKey: string;
  },
): Promise<{ refusal: string } | undefined> {
  if (!(await deps.deliveries.claim("slack", request.deliveryKey))) return undefined;
  const quoted = escapeMrkdwn(request.text)
    .split("\n")
    .map((line) => `>${line}`)
    .join("\n");
  const there = request.conversation?.target;
  let posted: webApi.ChatPostMessageResponse;
  try {
    posted = await client.chat.postMessage({
      channel: there?.channel ?? request.channel,
      ...(there?.threadTs ? { thread_ts: there.threadTs } : {}),
      text: `<@${request.slackUser}> asked *${request.agentName}*:\n${quoted}`,
    });
  } catch (error) {
    deps.logger.info({ err: error }, "could not post a Slack request");
    const code = (error as { data?: { error?: string } }).data?.error;
    return {
      refusal:
        code === "not_in_channel" || code === "channel_not_found"
          ? "I'm not in this channel, so I can't start a thread here. Invite me with `/invite @agents`, or use `/agents run` in a channel I'm in."
          : "I couldn't post your request in Slack just now, so nothing was started. Please try again in a minute.",
    };
  }
  const channel = posted.channel ?? request.channel;
  await deps.flow.run({
    principal: request.principal,
    askerRef: request.slackUser,
    agentName: request.agentName,
    text: request.text,
    conversation:
      request.conversation ??
      slackConversation({ team: request.team, channel, threadTs: posted.ts }),
    deliveryId: request.deliveryKey,
  });
  return undefined;
}
