import type { Config } from "../config/index.js";
import { migrateDown, migrateLatest, migrationStatus, openDatabase } from "../db/index.js";

export type MigrateDirection = "up" | "down" | "status";

/** `switchboard migrate [up|down|status]`: prints what it did, one line per migration. */
export async function migrate(
  config: Config,
  direction: MigrateDirection,
  options: { all: boolean },
  print: (line: string) => void = console.log,
): Promise<void> {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.SWITCHBOARD_DATA_DIR,
    poolMax: 2,
  });
  try {
    if (direction === "status") {
      const { applied, pending } = await migrationStatus(db);
      for (const name of applied) print(`applied  ${name}`);
      for (const name of pending) print(`pending  ${name}`);
      return;
    }
    if (direction === "up") {
      const { applied } = await migrateLatest(db);
      for (const name of applied) print(`applied  ${name}`);
      if (applied.length === 0) print("The database is up to date.");
      return;
    }
    const { applied: reverted } = await migrateDown(db, { all: options.all });
    for (const name of reverted) print(`reverted ${name}`);
    if (reverted.length === 0) print("Nothing to revert.");
  } finally {
    await db.close();
  }
}
