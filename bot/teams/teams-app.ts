import { App } from "@microsoft/teams.apps";
import express, { Router } from "express";
import type { Logger } from "pino";
import { describeUnstorableInput, findUnstorableInput } from "../../core/index.js";
import { BotTokens } from "./bot-token.js";
import { ConnectorAuthenticator, UnauthenticatedActivity } from "./connector-auth.js";
import { teamsSdkLogger } from "./sdk-logger.js";
import type { TeamsSettings } from "./teams-settings.js";

/** Where the Bot Connector posts activities (the bot registration's messaging endpoint). */
export const TEAMS_MESSAGES_PATH = "/api/messages";

/** The scope of the Bot Connector's API, which the bot's outgoing token is for. */
export const BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default";

/**
 * The Teams SDK's App, inside Switchboard's own HTTP server rather than on a port of its own:
 * its server adapter registers nothing (we mount the route), and each request is
 * authenticated here (connector-auth.ts) before it is handed to the App, which routes it to
 * the handlers registered on it. Its outgoing calls go to the activity's serviceUrl, with a
 * token from the bot's client credentials (bot-token.ts).
 */
export function createTeamsApp(
  settings: TeamsSettings,
  logger: Logger,
  hooks: { onArrival?: () => void } = {},
) {
  const sdkLogger = teamsSdkLogger(logger);
  const tokens = new BotTokens(settings);
  const app = new App({
    clientId: settings.appId,
    tenantId: settings.tenantId,
    token: (scope) => tokens.token(Array.isArray(scope) ? scope[0] : scope),
    logger: sdkLogger,
    // Never skipped: requests reach the App only through the authenticator below.
    dangerouslyAllowUnauthenticatedRequests: false,
    httpServerAdapter: { registerRoute: () => {} },
    // Mentions are read by Switchboard itself (the bot's own <at> is stripped there).
    activity: { mentions: { stripText: false } },
  });
  const auth = new ConnectorAuthenticator(settings, sdkLogger);
  const router = Router();
  router.post(TEAMS_MESSAGES_PATH, express.json({ limit: "1mb" }), async (req, res) => {
    hooks.onArrival?.();
    const activity = (req.body ?? {}) as Record<string, unknown>;
    let token: Awaited<ReturnType<ConnectorAuthenticator["authenticate"]>>;
    try {
      token = await auth.authenticate(req.headers.authorization, activity);
    } catch (error) {
      if (error instanceof UnauthenticatedActivity) {
        logger.warn({ reason: error.message }, "a request to /api/messages was refused");
        res.status(401).json({ error: "Unauthorized: not a request from the Bot Connector." });
        return;
      }
      // The metadata or its keys could not be read: the Bot Connector tries again later.
      logger.error({ err: error }, "cannot check a Teams request's token");
      res.status(503).json({ error: "Cannot check the request's token right now." });
      return;
    }
    // Signed, but carrying what no field can store (a NUL, half a surrogate pair) or nested
    // past any card's depth: refused here, in words, before a handler half-writes it.
    const unstorable = findUnstorableInput(activity);
    if (unstorable) {
      logger.info({ problem: unstorable.problem }, "refused a Teams activity it cannot store");
      res.status(400).json({ error: describeUnstorableInput("The activity", unstorable) });
      return;
    }
    const shape = activityShapeProblem(activity);
    if (shape) {
      logger.info({ problem: shape }, "refused a Teams activity the SDK cannot read");
      res.status(400).json({ error: `${shape}: this is not an activity the Bot Connector sends.` });
      return;
    }
    const event = { body: activity as never, token };
    if (activity.type !== "invoke") {
      // Only an invoke's answer carries anything; every other activity is answered now and
      // handed to the App after, so a burst's answers do not wait on its processing.
      res.status(200).end();
      app.server.onRequest?.(event).catch((error: unknown) => {
        logger.error({ err: error }, "a Teams activity could not be processed");
      });
      return;
    }
    const answer = await app.server.onRequest?.(event);
    res.status(answer?.status || 200);
    if (answer?.body === undefined) res.end();
    else res.json(answer.body);
  });
  return { app, router, tokens, logger: sdkLogger };
}

export type TeamsApp = ReturnType<typeof createTeamsApp>;

/**
 * What the Teams SDK reads without checking, so that a signed activity missing it would
 * throw inside the SDK after the 200 (e.g. a messageUpdate without channelData.eventType).
 */
function activityShapeProblem(activity: Record<string, unknown>): string | undefined {
  if (typeof activity.type !== "string") return "The activity has no type";
  if (activity.type === "messageUpdate" || activity.type === "messageDelete") {
    const channelData = activity.channelData as Record<string, unknown> | null | undefined;
    if (typeof channelData?.eventType !== "string") {
      return `The ${activity.type} activity has no channelData.eventType`;
    }
  }
  return undefined;
}
