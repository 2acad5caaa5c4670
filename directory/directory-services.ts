import type { Knex } from "knex";
import type { AccessPolicy, Authorizer } from "../authz/index.js";
import { AuditLog } from "../governance/index.js";
import { bearerApiKey } from "./api/authenticate.js";
import { createDirectoryApi } from "./api/router.js";
import { ApiKeys } from "./keys/api-keys.js";
import { AgentDirectory, AgentRegistry } from "./registry/index.js";

export interface DirectoryServices {
  /** The agents table and its access tuples, without permission checks (CLI, bootstrap). */
  registry: AgentRegistry;
  /** The directory as a person sees it: what the API and the site call. */
  directory: AgentDirectory;
  keys: ApiKeys;
}

/** Wires the directory's parts over one database and authorizer. */
export function createDirectoryServices(parts: {
  knex: Knex;
  authorizer: Authorizer;
  access: AccessPolicy;
}): DirectoryServices {
  const audit = new AuditLog(parts.knex);
  const registry = new AgentRegistry(parts.knex, parts.authorizer, audit);
  return {
    registry,
    directory: new AgentDirectory(registry, parts.access),
    keys: new ApiKeys(parts.knex, audit),
  };
}

/** The REST API router with today's authentication (bearer API keys). */
export function createDefaultDirectoryApi(services: DirectoryServices) {
  return createDirectoryApi({
    directory: services.directory,
    strategies: [bearerApiKey(services.keys)],
  });
}
