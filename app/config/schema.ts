import { isIP } from "node:net";
import { z } from "zod";
import { MAX_RUN_TIMEOUT_SECONDS, RUN_TIMEOUT_RULE } from "../../core/index.js";
import { egressAllowProblem } from "../../runtimes/index.js";
import { parseKeyring } from "../../secrets/index.js";

/**
 * Every setting Switchboard reads, keyed by its environment variable. Each entry's
 * description feeds the README's configuration reference (a test keeps them in step),
 * so write it for the person deploying Switchboard.
 */

const port = z.coerce
  .number({ error: "must be a port number from 0 to 65535" })
  .int({ error: "must be a whole port number from 0 to 65535" })
  .min(0, { error: "must be a port number from 0 to 65535" })
  .max(65535, { error: "must be a port number from 0 to 65535" });

function urlWithScheme(schemes: string[]) {
  const allowed = schemes.map((s) => `${s}://`).join(" or ");
  return z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ""));
      } catch {
        return false;
      }
    },
    { error: `must be a URL starting with ${allowed}` },
  );
}

/** The longest delay Node's timers take; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const positiveMs = z.coerce
  .number({ error: "must be a number of milliseconds" })
  .int({ error: "must be a whole number of milliseconds" })
  .positive({ error: "must be a positive number of milliseconds" })
  .max(MAX_TIMER_MS, {
    error: `must be at most ${MAX_TIMER_MS} milliseconds (about 24 days), the longest a timer waits`,
  });

/** A shorter hold than this lapses under an ordinary database hiccup (renewed every third). */
const MIN_CHAT_REPLY_HOLD_MS = 1_000;

const runLimit = z.coerce
  .number({ error: "must be a whole number from 1 to 10000" })
  .int({ error: "must be a whole number from 1 to 10000" })
  .min(1, { error: "must be a whole number from 1 to 10000" })
  .max(10_000, { error: "must be a whole number from 1 to 10000" });

/** A comma-separated setting's entries, trimmed, empty ones dropped. */
const commaList = z.string().transform((value) =>
  value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0),
);

const emailList = commaList
  .transform((emails) => emails.map((email) => email.toLowerCase()))
  .pipe(z.array(z.email({ error: "must be a comma-separated list of email addresses" })));

const ipList = commaList.pipe(
  z.array(
    z.string().refine((address) => isIP(address) !== 0, {
      error: "must be a comma-separated list of IP addresses",
    }),
  ),
);

const egressAllowList = commaList.superRefine((entries, ctx) => {
  for (const entry of entries) {
    const problem = egressAllowProblem(entry);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }
});

const environmentNames = commaList.pipe(
  z.array(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
      error: "must be a comma-separated list of environment variable names",
    }),
  ),
);

/** Checked with the store's own parser; the message never holds a key. */
const keyring = z.string().superRefine((value, ctx) => {
  try {
    parseKeyring(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const configSchema = z.object({
  PORT: port.default(3000).describe("Port of the HTTP server (site, API, bot endpoints)."),
  HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Address the HTTP server binds to. Use 0.0.0.0 in a container."),
  PUBLIC_URL: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "The address people reach Switchboard at, used in links posted to chat. Unset: http://HOST:PORT.",
    ),
  DATABASE_URL: urlWithScheme(["postgres", "postgresql"])
    .optional()
    .describe(
      "PostgreSQL connection URL. Unset: an embedded PGlite database under SWITCHBOARD_DATA_DIR (one process: the CLI reaches a running server through its admin socket, switchboard.sock in that folder).",
    ),
  DATABASE_POOL_MAX: z.coerce
    .number({ error: "must be a whole number from 1 to 100" })
    .int({ error: "must be a whole number from 1 to 100" })
    .min(1, { error: "must be a whole number from 1 to 100" })
    .max(100, { error: "must be a whole number from 1 to 100" })
    .default(10)
    .describe("Most PostgreSQL connections one process opens."),
  SWITCHBOARD_DATA_DIR: z
    .string()
    .min(1)
    .default("./.switchboard")
    .describe("Folder for the embedded database and other local state."),
  REDIS_URL: urlWithScheme(["redis", "rediss"])
    .optional()
    .describe(
      "Redis URL for the BullMQ run queue; set it to run `switchboard worker` processes apart. Unset: runs are dispatched in-process.",
    ),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, { error: "must be letters, digits, '_', '.' or '-'" })
    .default("switchboard")
    .describe(
      "Prefix of Switchboard's Redis keys and channels, so two deployments (or test runs) can share one Redis.",
    ),
  OPENFGA_API_URL: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "OpenFGA server URL. Unset: the embedded evaluator decides, with the same model, tuples kept in the database.",
    ),
  OPENFGA_STORE_ID: z
    .string()
    .optional()
    .describe(
      "OpenFGA store to use. Unset with OPENFGA_API_URL set: a store named `switchboard` is found or created.",
    ),
  OPENFGA_API_TOKEN: z
    .string()
    .optional()
    .describe("Pre-shared key sent to OpenFGA as a bearer token."),
  OPENFGA_TIMEOUT_MS: positiveMs
    .default(2000)
    .describe("How long an authorization check may take before it counts as a denial."),
  OPENFGA_LIST_CACHE_TTL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe(
      "How long the agents a person may view or run, as listed by the OpenFGA server, are kept (0: asked every time). Switchboard's own writes empty the cache at once and writes made elsewhere are seen from OpenFGA's changelog within a second; this is the bound if the changelog cannot be read. For this long after its own writes (10 s at least, the server's cache TTL) Switchboard also asks past the server's caches.",
    ),
  SWITCHBOARD_ADMINS: emailList
    .default([])
    .describe(
      "Comma-separated emails of platform admins, granted on start-up; never used to remove admins (remove one on the admin page).",
    ),
  AGENT_REGISTRATION: z
    .enum(["team_members", "admins"], { error: "must be team_members or admins" })
    .default("team_members")
    .describe(
      "Who may register agents: `team_members` (members of any team, and platform admins) or `admins` (platform admins only). Applied to every team at start-up. The CLI registers agents regardless.",
    ),
  SESSION_SECRET: z
    .string()
    .min(32, { error: "must be at least 32 characters" })
    .optional()
    .describe(
      "Key that signs the directory site's session cookies; give every web process the same one. Unset: a random key per process (people sign in again after a restart).",
    ),
  SECRETS_KEYS: keyring
    .optional()
    .describe(
      "Keys that encrypt the secret store's data keys: comma-separated id:base64, 32 bytes each (e.g. main:$(openssl rand -base64 32)); give every process the same. The first wraps new data keys, the others still unwrap: to rotate, put a new key first, run `switchboard secrets rotate`, then drop the old one. Unset on the embedded default: a key file made under SWITCHBOARD_DATA_DIR. Unset with DATABASE_URL: the secret store is off.",
    ),
  SECRETS_KMS_KEY_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      "An AWS KMS key (id, ARN or alias/NAME) that wraps the secret store's data keys, so the key-encryption key never leaves KMS; needs AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. SECRETS_KEYS, if also set, still unwraps: moving to KMS is setting this and running `switchboard secrets rotate`.",
    ),
  SECRETS_KMS_ENDPOINT: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "Another AWS KMS endpoint (a VPC endpoint); unset: https://kms.AWS_REGION.amazonaws.com.",
    ),
  AWS_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/, { error: "must be an AWS region, e.g. eu-west-1" })
    .optional()
    .describe("The AWS region of SECRETS_KMS_KEY_ID."),
  AWS_ACCESS_KEY_ID: z
    .string()
    .optional()
    .describe("The AWS access key Switchboard calls KMS with (SECRETS_KMS_KEY_ID)."),
  AWS_SECRET_ACCESS_KEY: z.string().optional().describe("The secret of AWS_ACCESS_KEY_ID."),
  AWS_SESSION_TOKEN: z
    .string()
    .optional()
    .describe("The session token of temporary AWS credentials, with AWS_ACCESS_KEY_ID."),
  RUNTIME_ENV_ALLOWLIST: environmentNames
    .default([])
    .describe(
      "Comma-separated names of environment variables that agents' runtime settings may read as { env: NAME }. Empty: none, so no manifest reads the server's environment; keep agents' credentials in the secret store ({ secret: NAME }).",
    ),
  AUTH_TRUSTED_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, { error: "must be an HTTP header name, e.g. x-forwarded-email" })
    .transform((name) => name.toLowerCase())
    .optional()
    .describe(
      "Header by which an SSO proxy in front of Switchboard names the signed-in person's email (e.g. x-forwarded-email). Believed only from AUTH_TRUSTED_PROXIES.",
    ),
  AUTH_TRUSTED_PROXIES: ipList
    .default([])
    .describe(
      "Comma-separated IP addresses of the proxies in front of Switchboard whose AUTH_TRUSTED_HEADER and X-Forwarded-Proto are believed (`https` there makes the site's cookies Secure); both headers are ignored from anyone else.",
    ),
  OIDC_ISSUER_URL: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "OpenID Connect issuer (e.g. https://accounts.google.com, an Okta or Entra ID tenant) the site signs people in with; its JWT access and ID tokens are also accepted as bearer tokens at /api/v1, /a2a and /mcp. Needs OIDC_CLIENT_ID and PUBLIC_URL.",
    ),
  OIDC_CLIENT_ID: z
    .string()
    .optional()
    .describe(
      "The site's client id at the OIDC issuer; a bearer token's audience must include it, PUBLIC_URL or PUBLIC_URL/mcp.",
    ),
  OIDC_CLIENT_SECRET: z
    .string()
    .optional()
    .describe(
      "The site's client secret at the OIDC issuer (unset for a public client using PKCE only).",
    ),
  OIDC_SCOPES: z
    .string()
    .default("openid email profile")
    .describe("Scopes asked of the OIDC issuer; the email claim is required."),
  OIDC_GROUPS_CLAIM: z
    .string()
    .regex(/^[\w:./-]{1,200}$/, { error: "must be the name of a claim, e.g. groups" })
    .optional()
    .describe(
      "A claim of the OIDC ID token listing the person's groups (e.g. groups). Set: at each sign-in the person's team membership from OIDC becomes those groups, each mapped to a team as SCIM groups are (SCIM_GROUP_MAP, else the name as a slug); memberships from SCIM or added by hand are left alone. Unset: sign-in does not change teams.",
    ),
  SCIM_TOKEN: z
    .string()
    .min(32, { error: "must be at least 32 characters (e.g. $(openssl rand -base64 32))" })
    .optional()
    .describe(
      "The bearer token your identity provider (Okta, Microsoft Entra ID…) sends to the SCIM 2.0 service at PUBLIC_URL/scim/v2 to create, update and deactivate people and keep teams in step. Unset: SCIM is off (/scim/v2 answers 404).",
    ),
  SCIM_GROUP_MAP: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return {} as Record<string, string>;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = undefined;
      }
      const ok =
        !!parsed &&
        typeof parsed === "object" &&
        !Array.isArray(parsed) &&
        Object.values(parsed).every(
          (slug) => typeof slug === "string" && /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.test(slug),
        );
      if (!ok) {
        ctx.addIssue({
          code: "custom",
          message:
            'must be a JSON object from group name to team slug, e.g. {"Platform Engineering":"platform"}',
        });
        return z.NEVER;
      }
      return parsed as Record<string, string>;
    })
    .describe(
      'Teams for groups whose name would not make the right slug: a JSON object from a SCIM group\'s displayName (or an OIDC groups claim value, such as an Entra group id) to a team slug, e.g. {"Platform Engineering":"platform"}. Names not listed become slugs by lowercasing them and turning runs of other characters into "-".',
    ),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-/, { error: "must be a bot token, starting with xoxb-" })
    .optional()
    .describe(
      "The Slack app's bot token. With SLACK_SIGNING_SECRET it switches the Slack integration on.",
    ),
  SLACK_SIGNING_SECRET: z
    .string()
    .optional()
    .describe("Verifies that requests to /slack/events come from Slack."),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, { error: "must be an app-level token, starting with xapp-" })
    .optional()
    .describe(
      "An app-level token: Slack is reached over Socket Mode instead of /slack/events (no public URL needed).",
    ),
  SLACK_API_URL: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "Where the Slack Web API is; unset: https://slack.com/api/. Tests point it at a local double.",
    ),
  SLACK_TEAM_ID: z
    .string()
    .optional()
    .describe('The Slack workspace id (T…), for the site\'s "Open in Slack" links.'),
  SLACK_APP_ID: z
    .string()
    .optional()
    .describe('The Slack app id (A…), for the site\'s "Open in Slack" links.'),
  TEAMS_APP_ID: z
    .string()
    .regex(/^[0-9a-fA-F-]{36}$/, { error: "must be the bot's Microsoft App ID, a GUID" })
    .optional()
    .describe(
      "The Teams bot's Microsoft App ID (from its Azure Bot registration). With TEAMS_APP_PASSWORD and TEAMS_TENANT_ID it switches the Teams bot on at /api/messages; also the site's \"Open in Teams\" links.",
    ),
  TEAMS_APP_PASSWORD: z
    .string()
    .optional()
    .describe(
      "The client secret of TEAMS_APP_ID in Microsoft Entra ID; the bot trades it for the tokens it answers Teams with. Never logged.",
    ),
  TEAMS_TENANT_ID: z
    .string()
    .regex(/^[0-9a-fA-F-]{36}$|^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, {
      error: "must be the Entra tenant id (a GUID) or its domain",
    })
    .optional()
    .describe("The Microsoft Entra tenant the bot is registered in (single-tenant bot)."),
  TEAMS_OPENID_METADATA_URL: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "Where the Bot Framework's OpenID metadata is; the keys it names sign the tokens on requests to /api/messages. Unset: https://login.botframework.com/v1/.well-known/openidconfiguration. Tests and sovereign clouds point it elsewhere.",
    ),
  TEAMS_TOKEN_URL: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "Where the bot gets its token for calls to Teams (OAuth client credentials). Unset: https://login.microsoftonline.com/TEAMS_TENANT_ID/oauth2/v2.0/token.",
    ),
  MODEL_PROXY_URL: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "The model proxy's address as agents reach it. Set: every run gets a proxy key of its own, handed to the agent, so its model calls are booked to the run and held to the agent's per-run budget. Unset with `serve --proxy-config`: the in-process proxy.",
    ),
  RUNTIME_EGRESS_ALLOW: egressAllowList
    .default([])
    .describe(
      "Comma-separated host names, IP addresses and CIDR ranges (e.g. agents.corp.internal,10.20.0.0/16) that agents may be reached at although they are internal. Agents may reach every public address; loopback, private, link-local (cloud metadata) and reserved ones are refused unless listed here, checked after DNS resolution and on every redirect. On the embedded default (no DATABASE_URL) with a loopback HOST, loopback is allowed too.",
    ),
  RUN_CONCURRENCY: z.coerce
    .number({ error: "must be a whole number from 1 to 1000" })
    .int({ error: "must be a whole number from 1 to 1000" })
    .min(1, { error: "must be a whole number from 1 to 1000" })
    .max(1000, { error: "must be a whole number from 1 to 1000" })
    .default(20)
    .describe(
      "Most sessions one worker (or the in-process queue) runs at once; turns of one session always run one at a time.",
    ),
  RUN_MAX_PER_USER: runLimit
    .default(5)
    .describe(
      "Most runs one person may have in progress at once, across every worker. Their further runs wait (they are told so) without holding a worker, and start as theirs finish; one person cannot fill the workers and starve everyone else.",
    ),
  RUN_MAX_PER_AGENT: runLimit
    .default(10)
    .describe(
      "Most runs of one agent in progress at once, across every worker and person. Further runs wait; when a place frees, the person with the fewest runs in progress goes first, then whoever has waited longest.",
    ),
  RUN_TIMEOUT_SECONDS: z.coerce
    .number({ error: `must be ${RUN_TIMEOUT_RULE}` })
    .int({ error: `must be ${RUN_TIMEOUT_RULE}` })
    .positive({ error: `must be ${RUN_TIMEOUT_RULE}` })
    .max(MAX_RUN_TIMEOUT_SECONDS, { error: `must be ${RUN_TIMEOUT_RULE}` })
    .default(900)
    .describe(
      `How long one turn may run before it is stopped and failed, unless the agent's manifest sets limits.timeout_seconds; at most ${MAX_RUN_TIMEOUT_SECONDS} (24 hours), as for the manifest.`,
    ),
  RUN_MAX_ATTEMPTS: z.coerce
    .number({ error: "must be a whole number from 1 to 20" })
    .int({ error: "must be a whole number from 1 to 20" })
    .min(1, { error: "must be a whole number from 1 to 20" })
    .max(20, { error: "must be a whole number from 1 to 20" })
    .default(3)
    .describe(
      "Tries of one turn when the runtime fails in a way that may pass (unreachable, 5xx, rate limited) or its worker died.",
    ),
  RUN_RETRY_BACKOFF_MS: positiveMs
    .default(1000)
    .describe(
      "Wait before the second try of a turn; doubled for each further try, up to 5 minutes.",
    ),
  MCP_TOOLS_CHECK_MS: positiveMs
    .default(30000)
    .describe(
      "How often the MCP server at /mcp checks, for each coding tool holding its notification stream open, whether the agents that person may run changed; on a change it sends notifications/tools/list_changed.",
    ),
  RUN_LEASE_MS: positiveMs
    .default(30000)
    .describe(
      "How long a worker holds a session without renewing it; a worker killed mid-run has its runs picked up again after this.",
    ),
  CHAT_REPLY_HOLD_MS: positiveMs
    .min(MIN_CHAT_REPLY_HOLD_MS, {
      error: `must be at least ${MIN_CHAT_REPLY_HOLD_MS} milliseconds (it is renewed every third of it)`,
    })
    .default(15_000)
    .describe(
      'How long a web process holds a Slack or Teams reply it is sending without renewing it (renewed every third of this). A web process killed mid-answer leaves its "working…" message still for up to this plus a third; then another web process takes the reply over and finishes the same message.',
    ),
  SANDBOX_DEPLOYMENT_LABEL: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
      error: "must be lowercase letters, digits, '.', '_' or '-' (at most 63), e.g. acme-prod",
    })
    .default("switchboard")
    .describe(
      "The label (switchboard.deployment) on every E2B or Daytona sandbox this deployment creates; its sweeper destroys only sandboxes carrying it. Give each deployment sharing a vendor account its own.",
    ),
  SANDBOX_IDLE_TIMEOUT_MS: positiveMs
    .default(3_600_000)
    .describe(
      "A session idle this long has its sandbox destroyed by the sweeper (its next turn starts a new sandbox primed with the transcript).",
    ),
  SANDBOX_SWEEP_INTERVAL_MS: positiveMs
    .default(300_000)
    .describe(
      "How often one worker (under a lease) lists the sandbox vendors' sandboxes carrying this deployment's label and destroys those whose session is closed, idle or unknown; it also sweeps at start-up.",
    ),
  SLACK_APPROVALS_CHANNEL: z
    .string()
    .regex(/^[CGD][A-Z0-9]{2,}$/, { error: "must be a Slack channel id, e.g. C0123456789" })
    .optional()
    .describe(
      "A Slack channel id where approval requests (with Approve and Deny buttons) are posted; unset: each approver gets a direct message.",
    ),
  TEAMS_APPROVALS_CONVERSATION: z
    .string()
    .regex(/^19:[A-Za-z0-9_.=-]+@thread\.(tacv2|skype|v2)$/, {
      error: "must be a Teams channel's conversation id, e.g. 19:abc123@thread.tacv2",
    })
    .optional()
    .describe(
      "A Teams channel's conversation id (19:…@thread.tacv2) where approval requests (Adaptive Cards with Approve and Deny) are posted; unset: each approver the bot knows gets a 1:1 chat.",
    ),
  BUDGET_RUN_ESTIMATE_USD: z.coerce
    .number({ error: "must be a number of US dollars from 0 to 10000" })
    .min(0, { error: "must be a number of US dollars from 0 to 10000" })
    .max(10_000, { error: "must be a number of US dollars from 0 to 10000" })
    .default(0.5)
    .describe(
      "What a run is assumed to cost while in flight when its agent sets no limits.max_cost_usd_per_run: held against every budget that applies from admission to the run's end (then its real cost counts), so runs started together cannot overspend a budget.",
    ),
  APPROVAL_EXPIRY_MINUTES: z.coerce
    .number({ error: "must be a whole number of minutes from 1 to 10080" })
    .int({ error: "must be a whole number of minutes from 1 to 10080" })
    .min(1, { error: "must be a whole number of minutes from 1 to 10080" })
    .max(10_080, { error: "must be a whole number of minutes from 1 to 10080" })
    .default(60)
    .describe(
      "How long approvers have to decide a run an approval budget holds; after it the run fails and its person is told.",
    ),
  METRICS_SPEND: z
    .enum(["on", "off"], { error: "must be on or off" })
    .default("off")
    .describe(
      "`on`: /metrics also reports this month's spend by team, runtime and model, and each budget's use. /metrics answers without credentials, so turn it on only where that port is reachable by Prometheus alone.",
    ),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlWithScheme(["http", "https"])
    .optional()
    .describe(
      "An OTLP/HTTP collector (e.g. http://otel-collector:4318): traces of runs and of the model proxy's calls (GenAI semantic conventions) are sent to its /v1/traces. Unset: no traces.",
    ),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` })
    .default("info")
    .describe("Least severe log level written (JSON lines on stdout)."),
  SHUTDOWN_TIMEOUT_MS: positiveMs
    .default(10000)
    .describe("How long a stopping process waits for work in flight before it exits anyway."),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigVariable = keyof typeof configSchema.shape;
