import { App, ExpressReceiver, SocketModeReceiver } from "@slack/bolt";
import { Router } from "express";
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { AccessPolicy, UserDirectory } from "../../authz/index.js";
import type { FastRoute } from "../../core/index.js";
import type {
  AccessRequestNotifiers,
  AccessRequests,
  AgentDirectory,
  AgentRegistry,
} from "../../directory/index.js";
import type { ApprovalNotifiers } from "../../governance/index.js";
import type { RunsService } from "../../sessions/index.js";
import { type ChatActionKind, openChatCore, runAgentKind, WorkLimiter } from "../chat/index.js";
import { registerAppHome } from "./app-home.js";
import { boltLogger } from "./bolt-logger.js";
import { registerChatActions } from "./chat-action-kinds.js";
import { SlackEventIntake } from "./event-intake.js";
import { slackFormGuard } from "./form-guard.js";
import { handleIncoming, type IncomingMessage } from "./incoming-message.js";
import { openRunForm, registerRunForm, slackPlaces } from "./run-agent-actions.js";
import { SeenReactions } from "./seen-reaction.js";
import {
  SlackAccessRequestNotifier,
  type SlackAccessRequestSettings,
} from "./slack-access-requests.js";
import { SlackApprovalNotifier, type SlackApprovalSettings } from "./slack-approvals.js";
import type { SlackDeps } from "./slack-deps.js";
import { SlackIdentities } from "./slack-identities.js";
import { SlackSurface } from "./slack-surface.js";
import { registerSlashCommand } from "./slash-command.js";

export interface SlackSettings {
  botToken: string;
  /** Required over HTTP; Socket Mode works without it. */
  signingSecret?: string | undefined;
  /** Set: Socket Mode (no public URL needed). */
  appToken?: string | undefined;
  /** The Web API's base URL (tests: a local double). */
  apiUrl?: string | undefined;
  publicUrl: string;
  /** The embedded database has one process: replies held when it last stopped were its own. */
  singleProcess?: boolean;
  /** CHAT_REPLY_HOLD_MS: see ChatCoreServices.replyHoldMs. */
  replyHoldMs?: number | undefined;
}

export interface SlackServices {
  knex: Knex;
  runs: RunsService;
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  users: UserDirectory;
  logger: Logger;
  /**
   * More kinds of button (governance's `approve_budget`), next to the run buttons: the
   * same list goes to every surface (see bot/chat/index.ts).
   */
  actionKinds?: readonly ChatActionKind[] | undefined;
  /** Where approval requests are told: Slack adds its notifier to these when it starts. */
  approvals?: (SlackApprovalSettings & { notifiers: ApprovalNotifiers }) | undefined;
  /**
   * Access requests: owners are asked in DMs (Slack adds its notifier to `notifiers`), their
   * buttons decide, and refusals to run carry "Request access".
   */
  requests?:
    | (SlackAccessRequestSettings & { service: AccessRequests; notifiers: AccessRequestNotifiers })
    | undefined;
}

export interface SlackIntegration {
  mode: "http" | "socket";
  /** Over HTTP: events (JSON) at POST /slack/events, answered ahead of express. */
  eventIntake: FastRoute | undefined;
  /** Over HTTP: mount at the root; it answers commands and clicks at POST /slack/events. */
  router: Router | undefined;
  stop(): Promise<void>;
}

/** The path Slack posts events, commands and interactions to (the app manifest's URLs). */
export const SLACK_EVENTS_PATH = "/slack/events";

/**
 * Events in hand at once; each was acknowledged before it waits its turn. Wide: an event's
 * own part is cheap (claiming it, its 👀), and a message's slow part waits in the chat
 * flow's line (TURNS_AT_ONCE), so a burst's last mention gets its sign of life without
 * waiting for the answers of all those before it.
 */
const INCOMING_AT_ONCE = 256;

/**
 * The Slack integration with Bolt: over HTTP at /slack/events, or over Socket Mode when an
 * app-level token is given. Over HTTP, events are acknowledged by a lean intake ahead of
 * express (event-intake.ts) and then handed to Bolt; commands and clicks go through Bolt's
 * express receiver, which checks signatures and timestamps on the raw body too.
 */
export async function startSlack(
  settings: SlackSettings,
  services: SlackServices,
): Promise<SlackIntegration> {
  const logger = services.logger.child({ module: "slack" });
  const socketMode = Boolean(settings.appToken);
  const router = Router();
  // A fresh object per client: Socket Mode's client writes its own retry settings into it.
  const clientOptions = () => (settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {});
  // Ahead of the receiver's own route: Bolt never sees a signed form it cannot read.
  if (!socketMode) {
    router.post(
      SLACK_EVENTS_PATH,
      slackFormGuard({ signingSecret: settings.signingSecret ?? "", logger }),
    );
  }
  const receiver = socketMode
    ? // Built here rather than by App: App hands Socket Mode only its installerOptions, so
      // apps.connections.open would ignore SLACK_API_URL and always go to slack.com.
      new SocketModeReceiver({
        appToken: settings.appToken ?? "",
        logger: boltLogger(logger),
        installerOptions: { clientOptions: clientOptions() },
      })
    : new ExpressReceiver({
        signingSecret: settings.signingSecret ?? "",
        endpoints: SLACK_EVENTS_PATH,
        router,
        logger: boltLogger(logger),
        // A signed click or form no listener of ours takes (a button from an older message,
        // a view we never opened): acknowledged, so Slack shows the person no error, and
        // noted, rather than Bolt's bare 404 and an error line for each one.
        unhandledRequestHandler: ({ response }) => {
          logger.info("acknowledged a Slack request no handler takes");
          if (!response.headersSent) {
            response.writeHead(200);
            response.end();
          }
        },
      });
  const app = new App({
    token: settings.botToken,
    receiver,
    ...(socketMode ? { socketMode: true } : {}),
    clientOptions: clientOptions(),
    logger: boltLogger(logger),
  });
  app.error(async (error) => {
    logger.error({ err: error }, "a Slack event failed");
  });

  const chat = openChatCore(new SlackSurface(app.client), {
    ...services,
    accessRequests: services.requests?.service,
    logger,
    publicUrl: settings.publicUrl,
    singleProcess: settings.singleProcess,
    replyHoldMs: settings.replyHoldMs,
  });
  const deps: SlackDeps = {
    ...services,
    ...chat,
    logger,
    publicUrl: settings.publicUrl,
    identities: new SlackIdentities(services.users),
    seen: new SeenReactions(app.client),
    accessRequests: services.requests?.service,
  };

  const incoming = new WorkLimiter(INCOMING_AT_ONCE);
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
    if (!message) return;
    const handle = () => handleIncoming(deps, client, context.botUserId, message);
    // Over HTTP the intake already holds events to INCOMING_AT_ONCE, before Bolt's own work.
    await (socketMode ? incoming.run(handle) : handle());
  };
  app.event("app_mention", onMessage);
  app.event("message", onMessage);
  registerSlashCommand(app, deps);
  registerAppHome(app, deps);
  // Every button's click, by the kind of ChatActions row it carries: the core's, the
  // kinds given (approvals) and Slack's own run form.
  chat.clicks.add(openRunForm(deps), slackPlaces(runAgentKind(deps)));
  registerChatActions(app, deps);
  services.approvals?.notifiers.add(
    new SlackApprovalNotifier(app.client, chat.flow, services.approvals),
  );
  services.requests?.notifiers.add(
    new SlackAccessRequestNotifier(app.client, chat.flow, services.requests, chat),
  );
  registerRunForm(app, deps);

  const intake = socketMode
    ? undefined
    : new SlackEventIntake({
        path: SLACK_EVENTS_PATH,
        signingSecret: settings.signingSecret ?? "",
        dispatch: (event) => incoming.run(() => app.processEvent(event)),
        logger,
      });
  if (socketMode) await app.start();
  await chat.resume();
  logger.info({ mode: socketMode ? "socket" : "http" }, "Slack integration on");
  return {
    mode: socketMode ? "socket" : "http",
    eventIntake: intake?.route,
    router: socketMode ? undefined : router,
    async stop() {
      // Acknowledged events are not sent again: handle those held or under way first.
      await intake?.drain();
      await chat.stop();
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
