import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The pid file in the embedded database's folder. */
export const LOCK_FILE = "switchboard.pid";

/** A pid file that keeps a second process off the embedded database's folder. */
export class DataDirLock {
  private constructor(private readonly path: string) {}

  static acquire(path: string): DataDirLock {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx" });
      return new DataDirLock(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = liveHolder(path);
    if (holder !== undefined) {
      throw new Error(
        `The embedded database in ${dirname(path)} is in use by process ${holder}. ` +
          "It serves one process at a time: stop that process, or set DATABASE_URL to share PostgreSQL. " +
          "(CLI commands such as `switchboard agents list` reach a running `switchboard serve` by themselves.)",
      );
    }
    // The holder is gone (a crash or kill -9): the lock is stale.
    writeFileSync(path, String(process.pid));
    return new DataDirLock(path);
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}

/** The live process, other than this one, holding the embedded database in `dataDir`; none if free or stale. */
export function dataDirHolder(dataDir: string): number | undefined {
  return liveHolder(join(dataDir, LOCK_FILE));
}

function liveHolder(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const holder = Number(text.trim());
  return Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)
    ? holder
    : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
