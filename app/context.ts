import type { Redis } from "ioredis";
import type { SecretStore } from "../secrets/index.js";
import { type Authorization, openAuthorization } from "./authorization.js";
import type { Config } from "./config/index.js";
import { type Database, migrateLatest, openDatabase } from "./db/index.js";
import type { ReadinessCheck } from "./http/index.js";
import { Lifecycle } from "./lifecycle.js";
import { createLogger, type Logger } from "./logger.js";
import { connectRedis, redisReadiness } from "./redis.js";
import { openSecretStore } from "./secrets.js";

/** What every Switchboard process holds once started: its parts and how to stop them. */
export interface ProcessContext {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  db: Database;
  redis: Redis | undefined;
  authorization: Authorization;
  /** The secret store (off with PostgreSQL and no key; see app/secrets.ts). */
  secrets: SecretStore;
  /** What /readyz asks: the database, and Redis and OpenFGA when configured. */
  checks: ReadinessCheck[];
}

/** A process's logger and lifecycle: there before anything is opened, so start-up can log and stop. */
export interface ProcessBase {
  logger: Logger;
  lifecycle: Lifecycle;
}

export function createProcessBase(config: Config, name: string): ProcessBase {
  const logger = createLogger({ level: config.LOG_LEVEL, name: `switchboard-${name}` });
  return { logger, lifecycle: new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS) };
}

/**
 * Opens the database (migrating it), Redis and the authorizer, registering how to stop each
 * and adding their readiness checks to `checks`.
 */
export async function openProcessContext(
  config: Config,
  base: ProcessBase,
  options: { migrate: boolean; checks?: ReadinessCheck[] },
): Promise<ProcessContext> {
  const { logger, lifecycle } = base;

  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.SWITCHBOARD_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    logger,
  });
  lifecycle.onStop("database", () => db.close());
  logger.info(
    { database: db.kind },
    db.kind === "pglite" ? "embedded database open" : "database connected",
  );

  if (options.migrate) {
    const { applied } = await migrateLatest(db);
    if (applied.length > 0) logger.info({ applied }, "database migrated");
  }

  const checks = options.checks ?? [];
  checks.push({ name: "database", check: () => db.ping() });

  let redis: Redis | undefined;
  if (config.REDIS_URL) {
    const connection = connectRedis(config.REDIS_URL, logger);
    redis = connection;
    lifecycle.onStop("redis", async () => {
      await connection.quit().catch(() => connection.disconnect());
    });
    checks.push(redisReadiness(connection));
  }

  const authorization = await openAuthorization(config, db, logger);
  lifecycle.onStop("authorization", () => authorization.authorizer.close());
  if (authorization.readiness) checks.push(authorization.readiness);

  const secrets = openSecretStore(config, db);
  lifecycle.onStop("secret store", () => secrets.close());
  if (!secrets.enabled) {
    logger.warn(
      "the secret store is off: set SECRETS_KEYS (or SECRETS_KMS_KEY_ID) to keep agents' credentials in it",
    );
  }
  return { config, logger, lifecycle, db, redis, authorization, secrets, checks };
}
