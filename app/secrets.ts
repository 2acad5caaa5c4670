import type { AccessPolicy, Authorizer } from "../authz/index.js";
import type { DirectoryServices } from "../directory/index.js";
import {
  agentSecrets,
  type KeyWrapper,
  keyFileEntries,
  LocalKeyring,
  parseKeyring,
  SecretService,
  SecretStore,
} from "../secrets/index.js";
import type { AgentSecrets } from "../sessions/index.js";
import type { Config } from "./config/index.js";
import type { Database } from "./db/index.js";

/**
 * The key-encryption keys the configuration gives: SECRETS_KEYS; on the embedded default
 * without it, a key file under SWITCHBOARD_DATA_DIR (made on first use); with PostgreSQL
 * and no key, none: the store is off and says which setting turns it on.
 */
export function secretKeys(config: Config, database: Database["kind"]): KeyWrapper | undefined {
  if (config.SECRETS_KEYS) return new LocalKeyring(parseKeyring(config.SECRETS_KEYS));
  if (database === "pglite") return new LocalKeyring(keyFileEntries(config.SWITCHBOARD_DATA_DIR));
  return undefined;
}

export function openSecretStore(config: Config, db: Database): SecretStore {
  return new SecretStore(db.knex, secretKeys(config, db.kind));
}

/** How the engine resolves each turn's references: granted secrets, and allowed env names only. */
export function runSecrets(config: Config, store: SecretStore, access: AccessPolicy): AgentSecrets {
  return agentSecrets({
    store,
    access,
    env: process.env,
    envAllowlist: config.RUNTIME_ENV_ALLOWLIST,
  });
}

/** The store as people and the operator manage it (API, site, CLI); grants go to live agents. */
export function secretService(parts: {
  db: Database;
  store: SecretStore;
  authorizer: Authorizer;
  access: AccessPolicy;
  directory: DirectoryServices;
}): SecretService {
  const { registry, audit } = parts.directory;
  return new SecretService({
    knex: parts.db.knex,
    store: parts.store,
    authorizer: parts.authorizer,
    access: parts.access,
    audit,
    agentExists: async (name) => (await registry.find(name)) !== undefined,
  });
}
