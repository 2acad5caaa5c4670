import type { Knex } from "knex";
import type { Logger } from "pino";
import type { AccessPolicy, UserDirectory } from "../../authz/index.js";
import type { AgentDirectory, AgentRegistry } from "../../directory/index.js";
import type { RunsService } from "../../sessions/index.js";
import type { ChatActions, ChatDeliveries, ChatReplies } from "../chat/index.js";
import type { SlackRunReplier } from "./run-replier.js";
import type { SlackIdentities } from "./slack-identities.js";

/** What the Slack handlers work with: Switchboard's services and the chat records. */
export interface SlackDeps {
  knex: Knex;
  runs: RunsService;
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  users: UserDirectory;
  identities: SlackIdentities;
  deliveries: ChatDeliveries;
  actions: ChatActions;
  replies: ChatReplies;
  replier: SlackRunReplier;
  /** Links in messages point here: the site's address. */
  publicUrl: string;
  logger: Logger;
}

/** A thread or direct message the bot answers in. */
export interface SlackPlace {
  team: string;
  channel: string;
  /** The thread the reply goes in; unset for a top-level direct message. */
  threadTs: string | undefined;
  /** The session's conversation key: the thread (or the DM) the person is talking in. */
  conversationKey: string;
}

/** The site's page of an agent, where people ask for access. */
export function agentPageUrl(deps: Pick<SlackDeps, "publicUrl">, agentName: string): string {
  return `${deps.publicUrl}/agents/${encodeURIComponent(agentName)}`;
}
