import type { webApi } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import { refusalText } from "../chat/index.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import { agentPageUrl, type SlackDeps, type SlackPlace } from "./slack-deps.js";

/**
 * Starts a run of `agentName` for the person in this thread's session, and has the replier
 * answer there. `deliveryKey` names the Slack message (or click) that asked: a repeat of it
 * finds the run already started and starts nothing. Refusals are answered in the thread.
 */
export async function runInThread(
  deps: SlackDeps,
  client: webApi.WebClient,
  request: {
    principal: UserPrincipal;
    slackUser: string;
    agentName: string;
    text: string;
    place: SlackPlace;
    deliveryKey: string;
  },
): Promise<void> {
  const { place } = request;
  let started: Awaited<ReturnType<SlackDeps["runs"]["start"]>>;
  try {
    started = await deps.runs.start(request.principal, {
      agentName: request.agentName,
      input: request.text,
      conversation: {
        surface: "slack",
        conversationKey: place.conversationKey,
        title: request.text.slice(0, 120),
      },
      idempotencyKey: `slack:${request.deliveryKey}`,
    });
  } catch (error) {
    deps.logger.info({ err: error, agent: request.agentName }, "a Slack request was refused");
    await client.chat.postMessage({
      channel: place.channel,
      thread_ts: place.threadTs,
      text: escapeMrkdwn(
        refusalText(error, request.agentName, agentPageUrl(deps, request.agentName)),
      ),
    });
    return;
  }
  if (!started.created) return;
  await deps.replier.start(started.run.id, {
    team: place.team,
    channel: place.channel,
    threadTs: place.threadTs,
    user: request.slackUser,
    agentName: started.agent.name,
    sessionId: started.session.id,
  });
}
