import { Client } from "@microsoft/teams.api";
import type { AccessPolicy } from "../../authz/index.js";
import type { AgentDirectory, AgentRegistry } from "../../directory/index.js";
import type { BotTokens } from "./bot-token.js";
import type { TeamsIdentities } from "./teams-identities.js";

/**
 * Switchboard's services as Teams' own parts use them (the message extension, who a member
 * is, the Bot Connector client); the conversation itself is the chat core's.
 */
export interface TeamsDeps {
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  identities: TeamsIdentities;
  tokens: BotTokens;
  /** The site's address: links in answers and cards, and the agent URLs that unfurl. */
  publicUrl: string;
}

/**
 * Where the bot answers: the Bot Connector of the activity (its serviceUrl) and the
 * conversation there. In a channel, the conversation id carries `;messageid=` of the reply
 * chain's first message, so what is sent there lands in the reply chain. Plain data: it is
 * stored in buttons and handed back to the renderer.
 */
export interface TeamsTarget {
  serviceUrl: string;
  conversationId: string;
  /** A 1:1 chat with the bot: answers stream there. */
  personal: boolean;
}

/** The Bot Connector client for a target, with the bot's own token. */
export function connectorClient(deps: Pick<TeamsDeps, "tokens">, serviceUrl: string) {
  return new Client(serviceUrl.replace(/\/+$/, ""), {
    token: () => deps.tokens.token("https://api.botframework.com/.default"),
  });
}
