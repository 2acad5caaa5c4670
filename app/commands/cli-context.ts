import { AccessPolicy, type Authorizer, openAuthorizer } from "../../authz/index.js";
import { createDirectoryServices, type DirectoryServices } from "../../directory/index.js";
import type { Config } from "../config/index.js";
import { type Database, migrateLatest, openDatabase } from "../db/index.js";
import { runtimeSettingsCheck } from "../runs.js";

/**
 * The database (migrated) and the configured authorizer for one CLI command, closed again
 * when the work is done. The CLI acts as the operator (`system:cli`).
 */
export async function withAuthorizer<T>(
  config: Config,
  work: (authorizer: Authorizer, db: Database) => Promise<T>,
): Promise<T> {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.SWITCHBOARD_DATA_DIR,
    poolMax: 2,
  });
  try {
    await migrateLatest(db);
    const authorizer = await openAuthorizer({
      openFgaApiUrl: config.OPENFGA_API_URL,
      openFgaStoreId: config.OPENFGA_STORE_ID,
      openFgaApiToken: config.OPENFGA_API_TOKEN,
      knex: db.knex,
    });
    try {
      return await work(authorizer, db);
    } finally {
      await authorizer.close();
    }
  } finally {
    await db.close();
  }
}

/** The directory's services for one CLI command. */
export function withDirectory<T>(
  config: Config,
  work: (services: DirectoryServices, db: Database) => Promise<T>,
): Promise<T> {
  return withAuthorizer(config, (authorizer, db) => {
    const access = new AccessPolicy(authorizer, config.OPENFGA_TIMEOUT_MS);
    return work(
      createDirectoryServices({
        knex: db.knex,
        authorizer,
        access,
        checkRuntime: runtimeSettingsCheck(config),
        registration: config.AGENT_REGISTRATION,
      }),
      db,
    );
  });
}

export const CLI_ACTOR = "system:cli";

/** Columns padded to their widest cell, for `agents list` and `keys list`. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
