import { readFileSync, rmSync, writeFileSync } from "node:fs";

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
    const holder = Number(readFileSync(path, "utf8").trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `The embedded database in ${path.replace(/\/switchboard\.pid$/, "")} is in use by process ${holder}. ` +
          "It serves one process at a time: stop that process, or set DATABASE_URL to share PostgreSQL.",
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
