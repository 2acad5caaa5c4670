import type { webApi } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import { retiredConversation } from "../../sessions/index.js";
import { type ChatRequest, namedAgent, parseRequest, refusalText } from "../chat/index.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import type { SlackDeps, SlackPlace } from "./slack-deps.js";
import { suggestionBlocks } from "./suggestion-blocks.js";
import { runInThread } from "./thread-runs.js";

/** The parts of an `app_mention` or `message` event the bot acts on. */
export interface IncomingMessage {
  team: string;
  channel: string;
  channelType: string | undefined;
  user: string | undefined;
  text: string;
  ts: string;
  threadTs: string | undefined;
  botId: string | undefined;
  subtype: string | undefined;
}

/**
 * One message to the bot, from an `app_mention` or a `message` event (Slack sends a mention
 * as both; whichever comes first is handled, the other finds it claimed):
 * - `@agents <agent> <request>` runs the agent in the thread's session, when it is one of
 *   the person's (they use it, their team owns it, or it is featured);
 * - `@agents <request>`, or naming an agent that is not theirs, offers the agents the
 *   person may run that fit, as buttons;
 * - a later message in a thread with a session (no mention needed), or a direct message,
 *   continues with the thread's agent when it is one of theirs; when that agent was retired,
 *   nothing runs, and those who talked in the thread are told why.
 * Bots (this one included), edits and other subtypes are ignored.
 */
export async function handleIncoming(
  deps: SlackDeps,
  client: webApi.WebClient,
  botUserId: string | undefined,
  message: IncomingMessage,
): Promise<void> {
  if (message.botId || message.subtype || !message.user || message.user === botUserId) return;
  const isDirect = message.channelType === "im";
  const mentioned = botUserId !== undefined && message.text.includes(`<@${botUserId}>`);
  const place = placeOf(message, isDirect);

  // In channels the bot hears only mentions, and thread replies in threads it is part of.
  if (!isDirect && !mentioned) {
    if (!message.threadTs) return;
    if (!(await deps.runs.conversationAgent("slack", place.conversationKey))) return;
  }
  const deliveryKey = `${message.team}:${message.channel}:${message.ts}`;
  if (!(await deps.deliveries.claim("slack", deliveryKey))) return;

  const refuse = async (words: string) => {
    await client.chat.postMessage({
      channel: place.channel,
      thread_ts: place.threadTs,
      text: escapeMrkdwn(words),
    });
  };
  const person = await deps.identities.person(client, message.team, message.user);
  if ("refusal" in person) return refuse(person.refusal);
  const picked = await pickAgent(deps, person.principal, message.text, place).catch(
    (error: unknown) => ({ refusal: refusalText(error, "", "") }),
  );
  if ("refusal" in picked) return refuse(picked.refusal);
  const { request, agentName } = picked;

  if (!agentName) {
    // A reply in a thread whose agent someone else picked, not addressed to the bot.
    if (!isDirect && !mentioned) return;
    const suggestion = await suggestionBlocks(
      deps,
      person.principal,
      request.text,
      place,
      request.passedOver,
    );
    await client.chat.postMessage({
      channel: place.channel,
      thread_ts: place.threadTs,
      ...suggestion,
    });
    return;
  }
  if (!request.text) {
    await client.chat.postMessage({
      channel: place.channel,
      thread_ts: place.threadTs,
      text: `What should *${agentName}* do? Write it after the name, e.g. \`@agents ${agentName} summarise this thread\`.`,
    });
    return;
  }
  await runInThread(deps, client, {
    principal: person.principal,
    slackUser: message.user,
    agentName,
    text: request.text,
    place,
    deliveryKey,
  });
}

/**
 * The agent a message goes to: the one its first word names, if it is one of the person's;
 * else the thread's agent, if that is one of theirs (someone else may have picked it);
 * else none, and the person is asked. See named-agent.ts for what makes an agent theirs.
 */
async function pickAgent(
  deps: SlackDeps,
  person: UserPrincipal,
  text: string,
  place: SlackPlace,
): Promise<{ request: ChatRequest; agentName: string | undefined }> {
  const theirs = (name: string) => namedAgent(deps, person, name);
  const request = await parseRequest(text, theirs);
  if (request.agentName) return { request, agentName: request.agentName };
  const thread = await deps.runs.conversationAgent("slack", place.conversationKey);
  // Its agent was retired: nothing runs, and whoever talked in the thread is told why.
  if (thread?.retired) {
    if (await deps.runs.tookPart(person, "slack", place.conversationKey)) {
      throw retiredConversation(thread.name, "thread");
    }
    return { request, agentName: undefined };
  }
  const continues = thread && (await theirs(thread.name)) === "theirs";
  return { request, agentName: continues ? thread.name : undefined };
}

/**
 * Where the conversation is. A mention at the top of a channel starts a thread on that
 * message; a top-level direct message continues the DM's conversation (one per DM).
 */
function placeOf(message: IncomingMessage, isDirect: boolean): SlackPlace {
  const threadTs = message.threadTs ?? (isDirect ? undefined : message.ts);
  return {
    team: message.team,
    channel: message.channel,
    threadTs,
    conversationKey: `${message.team}:${message.channel}:${threadTs ?? "dm"}`,
  };
}
