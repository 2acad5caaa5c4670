import type { UserPrincipal } from "../../authz/index.js";

/** The chat surfaces Switchboard answers on; also the `surface` of sessions and chat records. */
export type SurfaceName = "slack" | "teams";

/** Who a chat user is in Switchboard, or why they cannot be told (plain words for them). */
export type ChatPerson = { principal: UserPrincipal } | { refusal: string };

/**
 * A conversation the bot answers in: the key of its session and where its replies go.
 * `target` is the surface's own (Slack: team, channel, thread; Teams: service URL,
 * conversation, reply chain); the core only stores it (as JSON, in buttons and in replies
 * in flight) and hands it back to the surface's renderer, so it must be plain data.
 */
export interface ChatConversation<Target extends object = object> {
  /** The session's conversation key: the thread, reply chain or DM the person talks in. */
  threadKey: string;
  target: Target;
}

/**
 * One message to the bot, as a surface hands it to the chat flow (ChatFlow.handle), with
 * the surface's own work done: the sender is known by the surface's id, the mention of the
 * bot is parsed and stripped, the thread worked out.
 */
export interface IncomingChatMessage<Target extends object = object> {
  surface: SurfaceName;
  /** Names this delivery of this message: a repeat of it (a retry) is claimed once. */
  deliveryId: string;
  from: {
    /** The surface's id of the person (Slack's user id, Teams' AAD object id). */
    ref: string;
    /** Switchboard's person for them (by email, linked as an identity), or a refusal. */
    person(): Promise<ChatPerson>;
  };
  /** The conversation or channel the message is in. */
  where: string;
  /** The session key: the thread (or DM) the message is in or starts. */
  threadKey: string;
  /** What the person wrote, the mention of the bot stripped and the surface's escapes undone. */
  text: string;
  /** The bot was mentioned: a request. Without it, only a thread with a session continues. */
  mentioned: boolean;
  /** A direct (1:1) message: always to the bot. */
  direct: boolean;
  /** Where replies go, as the surface's renderer reads it (ChatConversation.target). */
  replyTarget: Target;
  /**
   * A sign of life on the message, shown as soon as it is claimed and before anything
   * slower (Slack: a reaction; Teams: typing, in chats). Only for messages addressed to the
   * bot; best effort (a failure is logged), and never waited for.
   */
  notice?: (() => Promise<void>) | undefined;
}
