import type { webApi } from "@slack/bolt";
import type { IncomingChatMessage } from "../chat/index.js";
import { plainText } from "./mention-text.js";
import { type SlackConversation, type SlackDeps, slackConversation } from "./slack-deps.js";

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
 * as both; whichever comes first is handled, the other finds it claimed), handed to the chat
 * flow (ChatFlow.handle) with Slack's own work done: the mention parsed and stripped, the
 * thread worked out, the person looked up by their Slack profile's email, and a 👀 on the
 * message as its first sign of life (seen-reaction.ts). Bots (this one
 * included), edits and other subtypes are ignored; in channels the bot hears only mentions,
 * and replies in threads.
 */
export async function handleIncoming(
  deps: SlackDeps,
  client: webApi.WebClient,
  botUserId: string | undefined,
  message: IncomingMessage,
): Promise<void> {
  const incoming = chatMessageOf(deps, client, botUserId, message);
  if (incoming) await deps.flow.handle(incoming);
}

function chatMessageOf(
  deps: SlackDeps,
  client: webApi.WebClient,
  botUserId: string | undefined,
  message: IncomingMessage,
): IncomingChatMessage<SlackConversation> | undefined {
  const { team, channel, user } = message;
  if (message.botId || message.subtype || !user || user === botUserId) return undefined;
  const direct = message.channelType === "im";
  const mentioned = botUserId !== undefined && message.text.includes(`<@${botUserId}>`);
  if (!direct && !mentioned && !message.threadTs) return undefined;
  // A mention at the top of a channel starts a thread on that message; a top-level direct
  // message continues the DM's conversation (one per DM).
  const threadTs = message.threadTs ?? (direct ? undefined : message.ts);
  const conversation = slackConversation({ team, channel, threadTs });
  return {
    surface: "slack",
    deliveryId: `${team}:${channel}:${message.ts}`,
    from: { ref: user, person: () => deps.identities.person(client, team, user) },
    where: channel,
    threadKey: conversation.threadKey,
    text: plainText(message.text),
    mentioned,
    direct,
    replyTarget: conversation.target,
    notice: () => deps.seen.seen(team, channel, message.ts),
  };
}
