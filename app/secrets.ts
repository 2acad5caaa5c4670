import type { AccessPolicy, Authorizer } from "../authz/index.js";
import type { DirectoryServices } from "../directory/index.js";
import {
  AwsKmsKeyWrapper,
  agentSecrets,
  type KeyWrapper,
  KeyWrappers,
  keyFileEntries,
  LocalKeyring,
  parseKeyring,
  SecretService,
  SecretStore,
} from "../secrets/index.js";
import type { AgentSecrets } from "../sessions/index.js";
import { type Config, ConfigError } from "./config/index.js";
import type { Database } from "./db/index.js";

/**
 * The key-encryption keys the configuration gives, the one that wraps first: the AWS KMS key
 * (SECRETS_KMS_KEY_ID), then SECRETS_KEYS; on the embedded default without SECRETS_KEYS, a
 * key file under SWITCHBOARD_DATA_DIR (made on first use). With PostgreSQL and neither, none:
 * the store is off and says which setting turns it on.
 */
export function secretKeys(config: Config, database: Database["kind"]): KeyWrapper | undefined {
  const local = config.SECRETS_KEYS
    ? new LocalKeyring(parseKeyring(config.SECRETS_KEYS))
    : database === "pglite"
      ? new LocalKeyring(keyFileEntries(config.SWITCHBOARD_DATA_DIR))
      : undefined;
  const kms = awsKms(config);
  if (kms) return local ? new KeyWrappers(kms, local) : kms;
  return local;
}

function awsKms(config: Config): AwsKmsKeyWrapper | undefined {
  if (!config.SECRETS_KMS_KEY_ID) return undefined;
  const { AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = config;
  const missing = { AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY };
  const problems = Object.entries(missing)
    .filter(([, value]) => !value)
    .map(([variable]) => ({ variable, problem: "is required with SECRETS_KMS_KEY_ID" }));
  if (problems.length > 0) throw new ConfigError(problems);
  return new AwsKmsKeyWrapper({
    keyId: config.SECRETS_KMS_KEY_ID,
    region: AWS_REGION as string,
    endpoint: config.SECRETS_KMS_ENDPOINT,
    credentials: {
      accessKeyId: AWS_ACCESS_KEY_ID as string,
      secretAccessKey: AWS_SECRET_ACCESS_KEY as string,
      sessionToken: config.AWS_SESSION_TOKEN,
    },
  });
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
