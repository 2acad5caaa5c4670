import type { webApi } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import { forbidden, SwitchboardError } from "../../core/index.js";
import type { Agent } from "../../directory/index.js";
import { refusalText } from "../chat/index.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import { agentPageUrl, type SlackDeps, type SlackPlace } from "./slack-deps.js";
import { runInThread } from "./thread-runs.js";

/**
 * Why this person may not run the agent, in plain words for them (not yet escaped: it may go
 * to a modal's plain-text error); the agent when they may. Checked
 * before anything is posted in a channel, so a refused `/agents run` leaves no trace there.
 * An agent they may not view reads as unknown, as everywhere else.
 */
export async function whyNotRun(
  deps: SlackDeps,
  principal: UserPrincipal,
  agentName: string,
): Promise<{ refusal: string } | { agent: Agent }> {
  const url = agentPageUrl(deps, agentName);
  try {
    const agent = await deps.directory.get(principal, agentName);
    if (agent.state !== "enabled") {
      const reason = agent.stateReason ? ` (${agent.stateReason})` : "";
      const error = new SwitchboardError("agent_unavailable", `it is ${agent.state}${reason}.`);
      return { refusal: refusalText(error, agentName, url) };
    }
    const permissions = await deps.directory.permissions(principal, agentName);
    if (!permissions.run)
      return { refusal: refusalText(forbidden("not a runner"), agentName, url) };
    return { agent };
  } catch (error) {
    return { refusal: refusalText(error, agentName, url) };
  }
}

/**
 * Posts a request where everyone can see it, as the bot naming the person who asked, and runs
 * it in that message's thread (or in `place`'s thread when the request came from one), so the
 * thread becomes the session and follow-ups need no mention. Resolves to a refusal when the
 * bot cannot post there (a channel it was not invited to).
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
    place?: SlackPlace | undefined;
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
  let posted: webApi.ChatPostMessageResponse;
  try {
    posted = await client.chat.postMessage({
      channel: request.place?.channel ?? request.channel,
      ...(request.place?.threadTs ? { thread_ts: request.place.threadTs } : {}),
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
  const threadTs = request.place?.threadTs ?? posted.ts;
  await runInThread(deps, client, {
    principal: request.principal,
    slackUser: request.slackUser,
    agentName: request.agentName,
    text: request.text,
    place: request.place ?? {
      team: request.team,
      channel,
      threadTs,
      conversationKey: `${request.team}:${channel}:${threadTs}`,
    },
    deliveryKey: request.deliveryKey,
  });
  return undefined;
}
