import { approvalKinds, startTeams, type TeamsSettings } from "../bot/index.js";
import type { DirectoryServices } from "../directory/index.js";
import type { ApprovalNotifiers } from "../governance/index.js";
import type { RunsService } from "../sessions/index.js";
import { approverEmails, ownerEmails } from "./approver-emails.js";
import { type Config, ConfigError } from "./config/index.js";
import type { ProcessContext } from "./context.js";

const BOT_FRAMEWORK_OPENID_METADATA =
  "https://login.botframework.com/v1/.well-known/openidconfiguration";

const TEAMS_VARIABLES = ["TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID"] as const;

/**
 * The Teams bot's settings, or undefined when none of TEAMS_APP_ID, TEAMS_APP_PASSWORD and
 * TEAMS_TENANT_ID is set. All three or none: checked before the server listens, so a
 * half-configured bot is a start-up error naming what is missing, never a bot that answers
 * every request with 401. TEAMS_APP_ID alone used to only light up the site's "Open in
 * Teams" links; those links point at this bot, so they now need it whole too.
 */
export function teamsSettings(config: Config): TeamsSettings | undefined {
  const set = TEAMS_VARIABLES.filter((name) => config[name]);
  if (set.length === 0) return undefined;
  if (set.length < TEAMS_VARIABLES.length) {
    const missing = TEAMS_VARIABLES.filter((name) => !config[name]);
    throw new ConfigError(
      missing.map((variable) => ({
        variable,
        problem: `is required with ${set.join(" and ")}: the Teams bot needs TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID together`,
      })),
    );
  }
  const tenantId = config.TEAMS_TENANT_ID as string;
  return {
    appId: config.TEAMS_APP_ID as string,
    appPassword: config.TEAMS_APP_PASSWORD as string,
    tenantId,
    openIdMetadataUrl: config.TEAMS_OPENID_METADATA_URL ?? BOT_FRAMEWORK_OPENID_METADATA,
    tokenUrl:
      config.TEAMS_TOKEN_URL ??
      `https://login.microsoftonline.com/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`,
  };
}

/** Switches the Teams bot on when it is configured; resolves to its router, or undefined. */
export async function openTeams(
  settings: TeamsSettings | undefined,
  ctx: ProcessContext,
  parts: {
    directory: DirectoryServices;
    runs: RunsService;
    publicUrl: string;
    /** Teams adds its approval requests (Adaptive Cards with buttons) to these. */
    approvalNotifiers?: ApprovalNotifiers | undefined;
    /** TEAMS_APPROVALS_CONVERSATION: one channel for every request instead of 1:1 chats. */
    approvalsConversation?: string | undefined;
  },
) {
  if (!settings) return undefined;
  const teams = await startTeams(settings, {
    knex: ctx.db.knex,
    runs: parts.runs,
    directory: parts.directory.directory,
    registry: parts.directory.registry,
    access: ctx.authorization.access,
    users: ctx.authorization.users,
    logger: ctx.logger,
    publicUrl: parts.publicUrl,
    singleProcess: ctx.db.kind === "pglite",
    replyHoldMs: ctx.config.CHAT_REPLY_HOLD_MS,
    // Approve/Deny buttons: the chat core's kinds, checked and applied as on every surface.
    actionKinds: approvalKinds(parts.runs),
    approvals: parts.approvalNotifiers && {
      notifiers: parts.approvalNotifiers,
      conversation: parts.approvalsConversation,
      approverEmails: approverEmails(ctx.authorization.authorizer),
    },
    // Owners asked in 1:1 cards; Approve / Deny and "Request access" are the core's kinds.
    requests: {
      service: parts.directory.accessRequests,
      notifiers: parts.directory.accessRequestNotifiers,
      ownerEmails: ownerEmails(ctx.authorization.authorizer),
    },
  });
  ctx.lifecycle.onStop("teams", () => teams.stop());
  return teams;
}
