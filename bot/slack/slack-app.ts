import { App, ExpressReceiver } from "@slack/bolt";
import { Router } from "express";
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { AccessPolicy, UserDirectory } from "../../authz/index.js";
import type { AgentDirectory, AgentRegistry } from "../../directory/index.js";
import type { RunsService } from "../../sessions/index.js";
import { ChatActions, ChatDeliveries, ChatReplies } from "../core/index.js";
import { boltLogger } from "./bolt-logger.js";
import { handleIncoming, type IncomingMessage } from "./incoming-message.js";
import { SlackRunReplier } from "./run-replier.js";
import type { SlackDeps } from "./slack-deps.js";
import { SlackIdentities } from "./slack-identities.js";
import { registerSuggestionActions } from "./suggestion-actions.js";

export interface SlackSettings {
  botToken: string;
  /** Required over HTTP; Socket Mode works without it. */
  signingSecret?: string | undefined;
  /** Set: Socket Mode (no public URL needed). */
  appToken?: string | undefined;
  /** The Web API's base URL (tests: a local double). */
  apiUrl?: string | undefined;
  publicUrl: string;
}

export interface SlackServices {
  knex: Knex;
  runs: RunsService;
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  users: UserDirectory;
  logger: Logger;
}

export interface SlackIntegration {
  mode: "http" | "socket";
  /** Over HTTP: mount at the root; it answers POST /slack/events. */
  router: Router | undefined;
  stop(): Promise<void>;
}

/** The path Slack posts events, commands and interactions to (the app manifest's URLs). */
export const SLACK_EVENTS_PATH = "/slack/events";

/**
 * The Slack integration with Bolt: over HTTP at /slack/events (Bolt checks signatures and
 * timestamps on the raw body, and acknowledges at once, so the work runs after Slack has
 * its answer), or over Socket Mode when an app-level token is given.
 */
export async function startSlack(
  settings: SlackSettings,
  services: SlackServices,
): Promise<SlackIntegration> {
  const logger = services.logger.child({ module: "slack" });
  const socketMode = Boolean(settings.appToken);
  const router = Router();
  const receiver = socketMode
    ? undefined
    : new ExpressReceiver({
        signingSecret: settings.signingSecret ?? "",
        endpoints: SLACK_EVENTS_PATH,
        router,
        logger: boltLogger(logger),
      });
  const app = new App({
    token: settings.botToken,
    ...(receiver ? { receiver } : { appToken: settings.appToken, socketMode: true }),
    clientOptions: settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {},
    logger: boltLogger(logger),
  });
  app.error(async (error) => {
    logger.error({ err: error }, "a Slack event failed");
  });

  const replies = new ChatReplies(services.knex);
  const replier = new SlackRunReplier({
    client: app.client,
    runs: services.runs,
    replies,
    publicUrl: settings.publicUrl,
    logger,
  });
  const deps: SlackDeps = {
    ...services,
    logger,
    identities: new SlackIdentities(services.users),
    deliveries: new ChatDeliveries(services.knex),
    actions: new ChatActions(services.knex),
    replies,
    replier,
    publicUrl: settings.publicUrl,
  };

  const onMessage = async ({
    event,
    context,
    client,
  }: {
    event: unknown;
    context: { botUserId?: string; teamId?: string };
    client: typeof app.client;
  }) => {
    const message = incomingOf(event, context.teamId);
    if (message) await handleIncoming(deps, client, context.botUserId, message);
  };
  app.event("app_mention", onMessage);
  app.event("message", onMessage);
  registerSuggestionActions(app, deps);

  if (socketMode) await app.start();
  const resumed = await replier.resume();
  if (resumed > 0) logger.info({ replies: resumed }, "resuming Slack replies left unfinished");
  logger.info({ mode: socketMode ? "socket" : "http" }, "Slack integration on");
  return {
    mode: socketMode ? "socket" : "http",
    router: receiver ? router : undefined,
    async stop() {
      await replier.close();
      if (socketMode) await app.stop();
    },
  };
}

/** The fields of a message or mention event we use; undefined for anything else. */
function incomingOf(event: unknown, contextTeam: string | undefined): IncomingMessage | undefined {
  const e = event as Record<string, unknown>;
  if (typeof e.channel !== "string" || typeof e.ts !== "string") return undefined;
  const str = (value: unknown) => (typeof value === "string" ? value : undefined);
  return {
    team: str(e.team) ?? contextTeam ?? "",
    channel: e.channel,
    channelType: str(e.channel_type),
    user: str(e.user),
    text: str(e.text) ?? "",
    ts: e.ts,
    threadTs: str(e.thread_ts),
    botId: str(e.bot_id),
    subtype: str(e.subtype),
  };
}
