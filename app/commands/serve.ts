import { Router } from "express";
import { SwitchboardError } from "../../core/index.js";
import {
  A2A_BASE,
  AgentUsage,
  API_BASE,
  bearerApiKey,
  bearerOidcToken,
  chatLinks,
  createA2aRouter,
  createDefaultDirectoryApi,
  createDirectoryServices,
  createDirectorySite,
  createMcpRouter,
  createScimRouter,
  Deactivation,
  ensureDemoAgent,
  McpCalls,
  mcpServerUrl,
  oidcTeamSync,
  runnableAgents,
  SCIM_BASE,
  ScimService,
  SessionCookies,
  type SignInModes,
  type SiteAuth,
  sessionCookieStrategy,
} from "../../directory/index.js";
import {
  ApprovalNotifiers,
  AuditReader,
  OutcomesService,
  registerSpendMetrics,
  SpendService,
} from "../../governance/index.js";
import { startProxy } from "../../proxy/index.js";
import { listenAdminSocket } from "../admin-socket/index.js";
import type { Config } from "../config/index.js";
import { createProcessBase, openProcessContext } from "../context.js";
import {
  createHttpApp,
  createHttpMetrics,
  type ReadinessCheck,
  startHttpServer,
} from "../http/index.js";
import { openRuns, runtimeSettingsCheck } from "../runs.js";
import { secretService } from "../secrets.js";
import { openSlack, SLACK_EVENTS_PATH } from "../slack.js";
import { openTeams, teamsSettings } from "../teams.js";
import { type CliContext, servedCliContext } from "./cli-context.js";
import { signInHint } from "./sign-in-hint.js";
import { oidcSettings, siteOidc } from "./site-oidc.js";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);
const DEFAULT_PROXY_PORT = 4000;

/**
 * How the site signs people in. The development form takes any email, so it exists only where
 * nobody else can reach it (the embedded database, one machine, bound to loopback) and only
 * when no real way in is configured: beside OIDC or an SSO proxy it would be a back door.
 */
export function signInModes(
  config: Config,
  database: "pglite" | "postgres",
  oidc: SignInModes["oidc"],
): SignInModes {
  const trustedHeader = config.AUTH_TRUSTED_HEADER
    ? { header: config.AUTH_TRUSTED_HEADER, proxies: config.AUTH_TRUSTED_PROXIES }
    : undefined;
  const alone = !trustedHeader && !config.OIDC_ISSUER_URL;
  return {
    development: alone && database === "pglite" && LOOPBACK_HOSTS.has(config.HOST),
    trustedHeader,
    oidc,
  };
}

export interface ServeOptions {
  migrate: boolean;
  /** Run the model proxy in this process too, with this LiteLLM-style config. */
  proxyConfigFile?: string | undefined;
  proxyPort?: number;
  /**
   * Runs a CLI command line in this process (the CLI's own runner, passed in so this module
   * does not import the CLI). With it, on the embedded database, CLI commands run in other
   * processes reach this one over its admin socket.
   */
  cliCommands?: (argv: string[], ctx: CliContext) => Promise<number>;
}

/**
 * `switchboard serve`: the HTTP server (site, API, bot endpoints). On the embedded default
 * (no REDIS_URL) it is the whole of Switchboard in one process.
 *
 * It listens first and opens its parts second: /healthz answers as soon as the process is
 * up (the embedded database takes seconds to create on a first start), /readyz says
 * "starting" until everything is open, and other routes answer 503 until then.
 */
export async function serve(config: Config, options: ServeOptions): Promise<void> {
  // Before anything starts: a half-configured OIDC sign-in is a configuration error.
  const oidc = oidcSettings(config);
  // Before anything starts too: a half-configured Teams bot names what it lacks.
  const teamsBot = teamsSettings(config);
  const base = createProcessBase(config, "web");
  const { logger, lifecycle } = base;
  let starting = true;
  const checks: ReadinessCheck[] = [
    {
      name: "startup",
      check: async () => {
        if (starting) throw new Error("still starting");
      },
    },
  ];
  const routes = Router();
  const metrics = createHttpMetrics();
  const app = createHttpApp({
    logger,
    metrics,
    checks: () => checks,
    isStopping: () => lifecycle.isStopping,
    mount(app) {
      app.use((_req, _res, next) => {
        if (!starting) return next();
        next(
          new SwitchboardError("starting", "Switchboard is starting; try again in a few seconds.", {
            status: 503,
          }),
        );
      });
      app.use(routes);
    },
  });
  const http = await startHttpServer(app, { host: config.HOST, port: config.PORT });
  lifecycle.handleSignals();

  let ctx: Awaited<ReturnType<typeof openProcessContext>>;
  try {
    ctx = await openProcessContext(config, base, { migrate: options.migrate, checks });
  } catch (error) {
    await http.close(0);
    throw error;
  }
  const directory = createDirectoryServices({
    knex: ctx.db.knex,
    authorizer: ctx.authorization.authorizer,
    access: ctx.authorization.access,
    checkRuntime: runtimeSettingsCheck(config),
    registration: config.AGENT_REGISTRATION,
    logger,
  });
  // Who may register agents follows AGENT_REGISTRATION, for teams made before it was set too.
  const registrars = await directory.registry.teams.syncRegistrars();
  if (registrars.added.length > 0 || registrars.removed.length > 0) {
    logger.info(
      { ...registrars, registration: config.AGENT_REGISTRATION },
      "teams whose members may register agents updated",
    );
  }
  // A newcomer's catalog is not empty: on the embedded default only, and only once.
  if (ctx.db.kind === "pglite" && (await ensureDemoAgent(directory.registry))) {
    logger.info("registered the built-in demo agent");
  }
  // Secure always behind an https PUBLIC_URL; else when the request came over TLS.
  const cookieSecurity = {
    always: (config.PUBLIC_URL ?? "").startsWith("https:"),
    tlsProxies: config.AUTH_TRUSTED_PROXIES,
  };
  const auth: SiteAuth = {
    cookies: new SessionCookies(config.SESSION_SECRET, cookieSecurity),
    sessions: directory.siteSessions,
    users: ctx.authorization.users,
    modes: signInModes(config, ctx.db.kind, siteOidc(oidc, config, cookieSecurity, logger)),
  };
  if (auth.modes.oidc && config.OIDC_GROUPS_CLAIM) {
    auth.modes.oidc.syncGroups = oidcTeamSync({
      teams: directory.registry.teams,
      memberships: directory.memberships,
      groupMap: config.SCIM_GROUP_MAP,
    });
  }
  // Without Redis this process also runs what it queues; with Redis, `switchboard worker` does.
  // Each chat surface adds how it tells approvers as it starts (runs are opened first).
  const approvalNotifiers = new ApprovalNotifiers(logger);
  const runs = await openRuns(ctx, runnableAgents(directory.registry), {
    approvalNotifier: approvalNotifiers,
    consume: !config.REDIS_URL,
    // With the proxy in this process, agents call it unless MODEL_PROXY_URL says otherwise.
    modelProxyUrl:
      config.MODEL_PROXY_URL ??
      (options.proxyConfigFile
        ? `http://${config.HOST}:${options.proxyPort ?? DEFAULT_PROXY_PORT}`
        : undefined),
  });
  const slack = await openSlack(config, ctx, {
    directory,
    runs: runs.service,
    publicUrl: config.PUBLIC_URL ?? http.url,
    approvalNotifiers,
  });
  if (slack) {
    http.addFastRoute(metrics.timed(SLACK_EVENTS_PATH, slack.eventIntake));
    routes.use(slack.router);
  }
  const teams = await openTeams(teamsBot, ctx, {
    directory,
    runs: runs.service,
    publicUrl: config.PUBLIC_URL ?? http.url,
    approvalNotifiers,
    approvalsConversation: config.TEAMS_APPROVALS_CONVERSATION,
  });
  if (teams) routes.use(teams.router);
  const secrets = secretService({
    db: ctx.db,
    store: ctx.secrets,
    authorizer: ctx.authorization.authorizer,
    access: ctx.authorization.access,
    directory,
  });
  if (config.SCIM_TOKEN) {
    // Off (404) while SCIM_TOKEN is unset: no endpoint exists that a guessed token could open.
    const service = new ScimService({
      users: ctx.authorization.users,
      teams: directory.registry.teams,
      memberships: directory.memberships,
      deactivation: new Deactivation(directory),
      audit: directory.audit,
      groupMap: config.SCIM_GROUP_MAP,
    });
    const baseUrl = `${(config.PUBLIC_URL ?? http.url).replace(/\/+$/, "")}${SCIM_BASE}`;
    routes.use(SCIM_BASE, createScimRouter({ token: config.SCIM_TOKEN, service, baseUrl }));
    logger.info({ url: baseUrl }, `SCIM provisioning is on at ${baseUrl}`);
  }
  const spend = new SpendService(ctx.db.knex, ctx.authorization.access);
  const outcomes = new OutcomesService(ctx.db.knex, ctx.authorization.access);
  const auditReader = new AuditReader(directory.audit, ctx.authorization.access);
  // Opt-in: /metrics answers anyone who reaches it. Every budget is reported, read as the
  // system reads them (Prometheus has no principal of its own).
  if (config.METRICS_SPEND === "on") {
    registerSpendMetrics(metrics.registry, {
      knex: ctx.db.knex,
      budgetUse: () => directory.budgets.list({ kind: "system", name: "metrics" }),
    });
  }
  const publicUrl = (config.PUBLIC_URL ?? http.url).replace(/\/+$/, "");
  const mcpUrl = mcpServerUrl(publicUrl);
  // With OIDC, the issuer's tokens are a bearer credential beside the API keys (before them:
  // a JWT is never looked up as a key, nor a key sent to the issuer).
  const oidcTokens = oidc
    ? bearerOidcToken({
        issuer: oidc.issuer,
        audiences: [oidc.clientId, publicUrl, mcpUrl],
        users: ctx.authorization.users,
        // The cause's words only: jose's errors carry the token's claims.
        onRefusal: (message, cause) =>
          logger
            .child({ module: "oidc" })
            .info(
              { cause: cause instanceof Error ? cause.message : undefined },
              `bearer token refused: ${message}`,
            ),
      })
    : undefined;
  const bearerTokens = oidcTokens ? [oidcTokens] : [];
  // Coding tools (Claude Code, Cursor) reach the agents a person may run as MCP tools.
  routes.use(
    createMcpRouter({
      directory: directory.directory,
      runs: runs.service,
      keys: directory.keys,
      calls: new McpCalls(ctx.db.knex),
      publicUrl,
      authorizationServer: config.OIDC_ISSUER_URL,
      tokens: oidcTokens,
      toolsCheckMs: config.MCP_TOOLS_CHECK_MS,
      logger: logger.child({ module: "mcp" }),
    }),
  );
  // Other agents reach every agent over A2A, with a person's API key (directory/a2a).
  routes.use(
    A2A_BASE,
    createA2aRouter({
      directory: directory.directory,
      runs: runs.service,
      strategies: [...bearerTokens, bearerApiKey(directory.keys)],
      publicUrl,
    }),
  );
  routes.use(
    API_BASE,
    createDefaultDirectoryApi(
      directory,
      [sessionCookieStrategy(auth)],
      runs.service,
      secrets,
      { spend, outcomes, audit: auditReader },
      { mcpUrl, publicUrl },
      bearerTokens,
    ),
  );
  routes.use(
    createDirectorySite({
      directory: directory.directory,
      access: ctx.authorization.access,
      audit: directory.audit,
      runs: runs.service,
      secrets,
      budgets: directory.budgets,
      accessRequests: directory.accessRequests,
      usage: new AgentUsage(ctx.db.knex),
      teams: { teams: directory.registry.teams, memberships: directory.memberships },
      registry: directory.registry,
      spend,
      outcomes,
      chat: chatLinks({
        slackAppId: config.SLACK_APP_ID,
        slackTeamId: config.SLACK_TEAM_ID,
        teamsAppId: config.TEAMS_APP_ID,
      }),
      mcpUrl,
      auth,
    }),
  );
  if (config.AUTH_TRUSTED_HEADER && config.AUTH_TRUSTED_PROXIES.length === 0) {
    logger.warn(
      "AUTH_TRUSTED_HEADER is set but AUTH_TRUSTED_PROXIES is empty: the header is ignored",
    );
  }

  if (options.proxyConfigFile) {
    // On its own port: the proxy's hot path stays off express.
    const modelProxy = await startProxy({
      configFile: options.proxyConfigFile,
      host: config.HOST,
      port: options.proxyPort ?? DEFAULT_PROXY_PORT,
      knex: ctx.db.knex,
      logger: logger.child({ module: "proxy" }),
      drainTimeoutMs: Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2),
      tracer: runs.tracer,
    });
    lifecycle.onStop("model proxy", () => modelProxy.close());
  }

  const cliCommands = options.cliCommands;
  if (ctx.db.kind === "pglite" && cliCommands) {
    // The embedded database serves this process only: CLI commands come to it instead.
    const parts = {
      config,
      db: ctx.db,
      authorizer: ctx.authorization.authorizer,
      directory,
      secrets,
    };
    const adminSocket = await listenAdminSocket({
      dataDir: config.SWITCHBOARD_DATA_DIR,
      logger,
      run: (request, io) =>
        cliCommands(
          request.argv,
          servedCliContext(parts, {
            cwd: request.cwd,
            print: (line) => io.stdout(`${line}\n`),
            printError: (line) => io.stderr(`${line}\n`),
            readStdin: io.readStdin,
          }),
        ),
    });
    if (adminSocket) lifecycle.onStop("admin socket", () => adminSocket.close());
  }

  // Registered after every other part, so it stops first: no new requests while the rest winds down.
  lifecycle.onStop("http server", () => http.close(Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2)));
  checks.shift();
  starting = false;
  logger.info(
    { url: http.url, database: ctx.db.kind, queue: config.REDIS_URL ? "redis" : "in-process" },
    `Switchboard is serving on ${http.url}`,
  );
  const hint = signInHint(config, auth.modes, http.url);
  logger[hint.level](hint.fields, hint.message);
}
