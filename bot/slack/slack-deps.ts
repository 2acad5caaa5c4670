import type { Knex } from "knex";
import type { Logger } from "pino";
import type { AccessPolicy, UserDirectory } from "../../authz/index.js";
import type { AccessRequests, AgentDirectory, AgentRegistry } from "../../directory/index.js";
import type { RunsService } from "../../sessions/index.js";
import {
  type ChatActionRegistry,
  type ChatActions,
  type ChatConversation,
  type ChatDeliveries,
  type ChatFlow,
  agentPageUrl as pageUrl,
} from "../chat/index.js";
import type { SeenReactions } from "./seen-reaction.js";
import type { SlackIdentities } from "./slack-identities.js";

/** What the Slack handlers work with: Switchboard's services, the chat flow and records. */
export interface SlackDeps {
  knex: Knex;
  runs: RunsService;
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  users: UserDirectory;
  identities: SlackIdentities;
  /** The 👀 on a message to the bot: its first sign of life. */
  seen: SeenReactions;
  deliveries: ChatDeliveries;
  actions: ChatActions;
  /** Messages to runs and replies, with Slack as the surface. */
  flow: ChatFlow<SlackConversation>;
  /** Every button's kind, by ChatActions.kind. */
  clicks: ChatActionRegistry;
  /** Links in messages point here: the site's address. */
  publicUrl: string;
  logger: Logger;
  /** Set when access requests are on: refusals to run then carry "Request access". */
  accessRequests?: AccessRequests | undefined;
}

/** Where the bot answers in Slack: a thread, or a direct message (the reply target). */
export type SlackConversation = {
  team: string;
  channel: string;
  /** The thread the reply goes in; unset for a top-level direct message. */
  threadTs?: string | undefined;
};

/** A Slack thread (or DM) as a chat conversation: its session key is team:channel:thread. */
export function slackConversation(target: SlackConversation): ChatConversation<SlackConversation> {
  const { team, channel, threadTs } = target;
  return {
    threadKey: `${team}:${channel}:${threadTs ?? "dm"}`,
    target: { team, channel, threadTs },
  };
}

/** The site's page of an agent, where people ask for access. */
export function agentPageUrl(deps: Pick<SlackDeps, "publicUrl">, agentName: string): string {
  return pageUrl(deps.publicUrl, agentName);
}
