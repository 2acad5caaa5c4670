import { AccessPolicy, type Authorizer, openAuthorizer } from "../../authz/index.js";
import { createDirectoryServices, type DirectoryServices } from "../../directory/index.js";
import type { SecretService } from "../../secrets/index.js";
import type { Config } from "../config/index.js";
import { type Database, migrateLatest, openDatabase } from "../db/index.js";
import { runtimeSettingsCheck } from "../runs.js";
import { openSecretStore, secretService } from "../secrets.js";

export type Print = (line: string) => void;

/**
 * Where one CLI command runs: its settings, where its output goes, and the database and
 * services it works on. The same command handlers run in the `switchboard` process (opening
 * the database for the one command) and inside a running `switchboard serve`, which takes
 * commands over its admin socket on the embedded database (its own open services, the
 * caller's output and stdin). The CLI acts as the operator (`system:cli`) either way.
 */
export interface CliContext {
  readonly config: Config;
  /** The folder relative paths in arguments are read from: the caller's. */
  readonly cwd: string;
  print: Print;
  printError: Print;
  /** A value from the caller's stdin (`secrets set`): typed without echo, or piped. */
  readStdin(): Promise<string>;
  withAuthorizer<T>(work: (authorizer: Authorizer, db: Database) => Promise<T>): Promise<T>;
  withDirectory<T>(work: (services: DirectoryServices, db: Database) => Promise<T>): Promise<T>;
  withSecrets<T>(work: (secrets: SecretService) => Promise<T>): Promise<T>;
}

export const CLI_ACTOR = "system:cli";

/**
 * A command run in its own process: the database (migrated) and the configured authorizer
 * are opened for each piece of work and closed again when it is done.
 */
export function directCliContext(
  config: Config,
  io: { print: Print; printError: Print; readStdin(): Promise<string> },
): CliContext {
  const withAuthorizer = async <T>(
    work: (authorizer: Authorizer, db: Database) => Promise<T>,
  ): Promise<T> => {
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
  };
  const directoryOf = (authorizer: Authorizer, db: Database) =>
    createDirectoryServices({
      knex: db.knex,
      authorizer,
      access: new AccessPolicy(authorizer, config.OPENFGA_TIMEOUT_MS),
      checkRuntime: runtimeSettingsCheck(config),
      registration: config.AGENT_REGISTRATION,
    });
  return {
    config,
    cwd: process.cwd(),
    ...io,
    withAuthorizer,
    withDirectory: (work) =>
      withAuthorizer((authorizer, db) => work(directoryOf(authorizer, db), db)),
    withSecrets: (work) =>
      withAuthorizer(async (authorizer, db) => {
        const access = new AccessPolicy(authorizer, config.OPENFGA_TIMEOUT_MS);
        const directory = directoryOf(authorizer, db);
        const store = openSecretStore(config, db);
        try {
          return await work(secretService({ db, store, authorizer, access, directory }));
        } finally {
          await store.close();
        }
      }),
  };
}

/** What a running server lends the commands it takes over its admin socket: its open parts. */
export interface ServedParts {
  config: Config;
  db: Database;
  authorizer: Authorizer;
  directory: DirectoryServices;
  secrets: SecretService;
}

/** A command run inside the server, on its open database and services; nothing is opened or closed. */
export function servedCliContext(
  parts: ServedParts,
  io: { cwd: string; print: Print; printError: Print; readStdin(): Promise<string> },
): CliContext {
  const { config, db, authorizer, directory, secrets } = parts;
  return {
    config,
    ...io,
    withAuthorizer: (work) => work(authorizer, db),
    withDirectory: (work) => work(directory, db),
    withSecrets: (work) => work(secrets),
  };
}

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
