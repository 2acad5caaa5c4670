import type { Knex } from "knex";
import pino, { type Logger } from "pino";
import type { AccessPolicy, Authorizer } from "../authz/index.js";
import {
  AuditLog,
  type AuditReader,
  Budgets,
  type OutcomesService,
  type SpendService,
} from "../governance/index.js";
import type { SecretService } from "../secrets/index.js";
import type { RunsService } from "../sessions/index.js";
import { a2aOpenApiPaths } from "./a2a/index.js";
import { AccessRequestNotifiers, AccessRequests } from "./access-requests/index.js";
import { type AuthStrategy, bearerApiKey } from "./api/authenticate.js";
import { createDirectoryApi } from "./api/router.js";
import { ApiKeys } from "./keys/api-keys.js";
import {
  AgentDirectory,
  type AgentRegistration,
  AgentRegistry,
  type RuntimeSettingsCheck,
  TeamMemberships,
} from "./registry/index.js";
import { SiteSessions } from "./site/index.js";

export interface DirectoryServices {
  /** The agents table and its access tuples, without permission checks (CLI, bootstrap). */
  registry: AgentRegistry;
  /** The directory as a person sees it: what the API and the site call. */
  directory: AgentDirectory;
  keys: ApiKeys;
  /** The site's signed-in sessions (the site checks them; admins and the CLI end them). */
  siteSessions: SiteSessions;
  /** The audit log the registry and keys write to (the site's admin page reads it). */
  audit: AuditLog;
  /** Budgets, managed through the API, the site and the CLI (governance checks who may). */
  budgets: Budgets;
  /** Who is in each team and where each membership came from (SCIM, OIDC, by hand). */
  memberships: TeamMemberships;
  /** Requests to run agents; chat surfaces add their notifiers to `accessRequestNotifiers`. */
  accessRequests: AccessRequests;
  accessRequestNotifiers: AccessRequestNotifiers;
}

/** Wires the directory's parts over one database and authorizer. */
export function createDirectoryServices(parts: {
  knex: Knex;
  authorizer: Authorizer;
  access: AccessPolicy;
  /** Checks runtime settings when a manifest is applied (the runtime registry's `check`). */
  checkRuntime?: RuntimeSettingsCheck;
  /** Who may register agents (AGENT_REGISTRATION); default `team_members`. */
  registration?: AgentRegistration;
  /** Where notifier failures are logged; silent without one. */
  logger?: Logger;
}): DirectoryServices {
  const audit = new AuditLog(parts.knex);
  const registry = new AgentRegistry(parts.knex, parts.authorizer, audit, {
    checkRuntime: parts.checkRuntime,
    registration: parts.registration,
  });
  const accessRequestNotifiers = new AccessRequestNotifiers(
    parts.logger ?? pino({ level: "silent" }),
  );
  return {
    registry,
    directory: new AgentDirectory(registry, parts.access),
    keys: new ApiKeys(parts.knex, audit),
    siteSessions: new SiteSessions(parts.knex, audit),
    audit,
    budgets: new Budgets(parts.knex, parts.access),
    memberships: new TeamMemberships(parts.knex, parts.authorizer),
    accessRequests: new AccessRequests({
      knex: parts.knex,
      access: parts.access,
      authorizer: parts.authorizer,
      notifier: accessRequestNotifiers,
    }),
    accessRequestNotifiers,
  };
}

/**
 * The REST API router: bearer API keys first, then any `extra` strategies (the site's
 * session cookie, with its CSRF check). With `runs`, it also starts and follows runs; with
 * `secrets`, it manages the secret store; with `governance`, /spend, /outcomes and /audit;
 * `discovery` names where else the agents are reached (the MCP server's URL). `tokens` (the
 * OIDC issuer's bearer tokens) go before the keys, so a JWT is never looked up as a key.
 */
export function createDefaultDirectoryApi(
  services: DirectoryServices,
  extra: readonly AuthStrategy[] = [],
  runs?: RunsService,
  secrets?: SecretService,
  governance: { spend?: SpendService; outcomes?: OutcomesService; audit?: AuditReader } = {},
  discovery: { mcpUrl?: string; publicUrl?: string } = {},
  tokens: readonly AuthStrategy[] = [],
) {
  return createDirectoryApi({
    directory: services.directory,
    runs,
    secrets,
    budgets: services.budgets,
    spend: governance.spend,
    outcomes: governance.outcomes,
    audit: governance.audit,
    accessRequests: services.accessRequests,
    mcpUrl: discovery.mcpUrl,
    strategies: [...tokens, bearerApiKey(services.keys), ...extra],
    publicUrl: discovery.publicUrl,
    // `serve` mounts the A2A server wherever it runs agents: the document describes it too.
    otherPaths: runs ? a2aOpenApiPaths() : undefined,
  });
}
