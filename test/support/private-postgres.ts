import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./ports.js";

/** Where this machine's PostgreSQL server programs are (Debian keeps them per version). */
function serverBinDir(): string {
  const versions = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, "postgres"))) return dir;
  }
  return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
}

/**
 * A PostgreSQL cluster of a test's own (initdb in a temporary directory, its own port), so
 * the test can stop, kill and restart the server itself without touching the shared one
 * other tests and sessions use. PostgreSQL refuses to run as root: as root its processes run
 * as the `postgres` OS user.
 */
export class PrivatePostgres {
  private child: ChildProcess | undefined;
  private log = "";

  private constructor(
    readonly port: number,
    private readonly dataDir: string,
    private readonly bin: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const bin = serverBinDir();
    const home = mkdtempSync(join(tmpdir(), "switchboard-pg-"));
    const dataDir = join(home, "data");
    const server = new PrivatePostgres(await freePort(), dataDir, bin);
    if (server.asPostgresUser) chownSync(home, postgresUid(), postgresGid());
    server.exec("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
    await server.startProcess();
    return server;
  }

  private get asPostgresUser(): boolean {
    return userInfo().uid === 0;
  }

  /** As root, the `postgres` OS user's ids for the server's processes. */
  private get user(): { uid?: number; gid?: number } {
    return this.asPostgresUser ? { uid: postgresUid(), gid: postgresGid() } : {};
  }

  private exec(program: string, args: string[]): void {
    execFileSync(join(this.bin, program), args, { stdio: "pipe", ...this.user });
  }

  /** A URL for `database` on this server. */
  url(database = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`create database "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Starts the server (again, after `stop`), on the same port and data; resolves once it answers. */
  async startProcess(): Promise<void> {
    const argv = [
      "-D",
      this.dataDir,
      "-p",
      String(this.port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${this.dataDir}`,
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ];
    const child = spawn(join(this.bin, "postgres"), argv, {
      stdio: ["ignore", "ignore", "pipe"],
      ...this.user,
    });
    this.child = child;
    child.stderr?.on("data", (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-8_000);
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited:\n${this.log}`);
      const probe = new pg.Client({ connectionString: this.url() });
      try {
        await probe.connect();
        await probe.query("select 1");
        await probe.end();
        return;
      } catch {
        await probe.end().catch(() => {});
        if (Date.now() > deadline) throw new Error(`postgres did not start:\n${this.log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /**
   * Stops the server: "fast" as an operator's restart does (SIGINT: sessions ended, a clean
   * shutdown), "crash" as a lost machine does (SIGKILL to the postmaster and every backend).
   */
  async stop(mode: "fast" | "crash" = "fast"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    if (mode === "crash") {
      // The postmaster and every backend it started (the backends first, so none is left
      // holding the shared memory a restart needs).
      for (const pid of childrenOf(child.pid as number)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // ended meanwhile
        }
      }
      child.kill("SIGKILL");
    } else {
      child.kill("SIGINT");
    }
    await exited;
    this.child = undefined;
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    await this.stop("crash");
    rmSync(join(this.dataDir, ".."), { recursive: true, force: true });
  }
}

/** The processes whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function postgresUid(): number {
  return Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
}

function postgresGid(): number {
  return Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
}
