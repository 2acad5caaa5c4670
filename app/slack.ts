import { approvalKinds, SLACK_EVENTS_PATH, startSlack } from "../bot/index.js";
import type { DirectoryServices } from "../directory/index.js";
import type { ApprovalNotifiers } from "../governance/index.js";
import type { RunsService } from "../sessions/index.js";
import { approverEmails, ownerEmails } from "./approver-emails.js";
import { type Config, ConfigError } from "./config/index.js";
import type { ProcessContext } from "./context.js";

export { SLACK_EVENTS_PATH };

/**
 * Switches the Slack integration on when it is configured: a bot token, and either the
 * signing secret (events over HTTP at /slack/events) or an app-level token (Socket Mode).
 * Resolves to what to mount over HTTP (the events intake and the router), or undefined.
 */
export async function openSlack(
  config: Config,
  ctx: ProcessContext,
  parts: {
    directory: DirectoryServices;
    runs: RunsService;
    publicUrl: string;
    /** Slack adds its approval requests (DMs with buttons) to these. */
    approvalNotifiers?: ApprovalNotifiers | undefined;
  },
) {
  const configured =
    config.SLACK_BOT_TOKEN || config.SLACK_SIGNING_SECRET || config.SLACK_APP_TOKEN;
  if (!configured) return undefined;
  if (!config.SLACK_BOT_TOKEN) {
    throw new ConfigError([
      {
        variable: "SLACK_BOT_TOKEN",
        problem: "is required to switch Slack on (the app's xoxb- bot token)",
      },
    ]);
  }
  if (!config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN) {
    throw new ConfigError([
      {
        variable: "SLACK_SIGNING_SECRET",
        problem:
          "is required for Slack over HTTP; or set SLACK_APP_TOKEN to use Socket Mode instead",
      },
    ]);
  }
  const slack = await startSlack(
    {
      botToken: config.SLACK_BOT_TOKEN,
      signingSecret: config.SLACK_SIGNING_SECRET,
      appToken: config.SLACK_APP_TOKEN,
      apiUrl: config.SLACK_API_URL,
      publicUrl: parts.publicUrl,
      singleProcess: ctx.db.kind === "pglite",
      replyHoldMs: config.CHAT_REPLY_HOLD_MS,
    },
    {
      knex: ctx.db.knex,
      runs: parts.runs,
      directory: parts.directory.directory,
      registry: parts.directory.registry,
      access: ctx.authorization.access,
      users: ctx.authorization.users,
      logger: ctx.logger,
      actionKinds: approvalKinds(parts.runs),
      approvals: parts.approvalNotifiers && {
        notifiers: parts.approvalNotifiers,
        channel: config.SLACK_APPROVALS_CHANNEL,
        approverEmails: approverEmails(ctx.authorization.authorizer),
      },
      requests: {
        service: parts.directory.accessRequests,
        notifiers: parts.directory.accessRequestNotifiers,
        ownerEmails: ownerEmails(ctx.authorization.authorizer),
      },
    },
  );
  ctx.lifecycle.onStop("slack", () => slack.stop());
  return slack.router && slack.eventIntake
    ? { router: slack.router, eventIntake: slack.eventIntake }
    : undefined;
}
