import {
  AccessPolicy,
  type Authorizer,
  openAuthorizer,
  syncPlatformAdmins,
  UserDirectory,
} from "../authz/index.js";
import type { Config } from "./config/index.js";
import type { Database } from "./db/index.js";
import type { ReadinessCheck } from "./http/index.js";
import type { Logger } from "./logger.js";

export interface Authorization {
  authorizer: Authorizer;
  access: AccessPolicy;
  users: UserDirectory;
  readiness: ReadinessCheck | undefined;
}

const CONNECT_ATTEMPTS = 5;

/**
 * Opens the configured authorizer (retrying an OpenFGA server that is still starting, as
 * in docker compose), adds the platform admins in SWITCHBOARD_ADMINS, and gives /readyz
 * a check for the OpenFGA server, or for the embedded evaluator's change feed when
 * processes share PostgreSQL (while it reconnects, other processes' grants and revocations
 * do not reach this one).
 */
export async function openAuthorization(
  config: Config,
  db: Database,
  logger: Logger,
): Promise<Authorization> {
  let authorizer: Authorizer | undefined;
  for (let attempt = 1; !authorizer; attempt++) {
    try {
      authorizer = await openAuthorizer({
        openFgaApiUrl: config.OPENFGA_API_URL,
        openFgaStoreId: config.OPENFGA_STORE_ID,
        openFgaApiToken: config.OPENFGA_API_TOKEN,
        openFgaListCacheTtlMs: config.OPENFGA_LIST_CACHE_TTL_MS,
        knex: db.knex,
        databaseUrl: config.DATABASE_URL,
        logger,
      });
    } catch (error) {
      if (attempt >= CONNECT_ATTEMPTS || !config.OPENFGA_API_URL) {
        throw new Error(`Authorization could not start: ${(error as Error).message}`, {
          cause: error,
        });
      }
      logger.warn({ err: error, attempt }, "OpenFGA did not answer; retrying");
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
    }
  }
  const { added, removed } = await syncPlatformAdmins(authorizer, config.SWITCHBOARD_ADMINS);
  if (added.length > 0 || removed.length > 0)
    logger.info({ added, removed }, "platform admins updated");
  logger.info({ backend: authorizer.backend }, "authorization ready");

  const ready = authorizer;
  return {
    authorizer: ready,
    access: new AccessPolicy(ready, config.OPENFGA_TIMEOUT_MS),
    users: new UserDirectory(db.knex),
    readiness: config.OPENFGA_API_URL
      ? { name: "openfga", check: () => ready.ping() }
      : config.DATABASE_URL
        ? { name: "authorization", check: () => ready.ping() }
        : undefined,
  };
}
