import { Client } from "@microsoft/teams.api";
import type { Interceptor } from "@microsoft/teams.common";
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
    interceptors: [plainFailures],
  });
}

/**
 * A call to the Bot Connector that failed: its answer's status and error code, the method
 * and path, nothing more. What the SDK's HTTP client throws carries the whole request, the
 * bot's bearer token in its headers, which any `{ err }` log line would print.
 */
export class BotConnectorError extends Error {
  override name = "BotConnectorError";

  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

const plainFailures: Interceptor = {
  response: ({ res }) => res,
  error: ({ error }: { error: unknown }): never => {
    throw connectorFailure(error);
  },
};

function connectorFailure(error: unknown): BotConnectorError {
  const failed = (error ?? {}) as {
    code?: unknown;
    config?: { method?: unknown; url?: unknown };
    response?: { status?: unknown; data?: { error?: { code?: unknown } } };
  };
  const status = typeof failed.response?.status === "number" ? failed.response.status : undefined;
  const code = failed.response?.data?.error?.code ?? failed.code;
  const how = status === undefined ? "could not be reached" : `answered ${status}`;
  const why = typeof code === "string" && /^[\w.-]{1,64}$/.test(code) ? ` (${code})` : "";
  const method =
    typeof failed.config?.method === "string" ? failed.config.method.toUpperCase() : "";
  let path = "";
  try {
    path = new URL(String(failed.config?.url)).pathname;
  } catch {
    // No URL to name.
  }
  return new BotConnectorError(`the Bot Connector ${how}${why}: ${method} ${path}`.trim(), status);
}
