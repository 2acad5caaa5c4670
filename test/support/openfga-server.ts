import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { OPENFGA_SERVER_SETTINGS } from "../../authz/index.js";
import { freePort } from "./ports.js";

/**
 * A real OpenFGA server (in-memory datastore, or PostgreSQL) on loopback ports of its own, for tests that
 * hold our code to the real thing. `.ci/run` installs the binary; on a machine without it
 * `findOpenFgaBinary` says why, and the tests that need it are skipped saying so.
 */
export function findOpenFgaBinary(): { path?: string; missing?: string } {
  const candidates = [process.env.OPENFGA_BIN, join(homedir(), "go", "bin", "openfga")];
  try {
    candidates.push(
      join(execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim(), "bin", "openfga"),
    );
  } catch {
    // no Go toolchain
  }
  try {
    candidates.push(execFileSync("sh", ["-c", "command -v openfga"], { encoding: "utf8" }).trim());
  } catch {
    // not on PATH
  }
  const path = candidates.find((candidate) => candidate && existsSync(candidate));
  if (path) return { path };
  const missing =
    "the OpenFGA server is not installed (go install github.com/openfga/openfga/cmd/openfga@v1.18.1, as .ci/run does)";
  // CI installs it: there, a missing server is a failure, never a silent skip.
  if (process.env.CI) throw new Error(missing);
  return { missing };
}

export class OpenFgaServer {
  private constructor(
    private child: ChildProcess,
    readonly url: string,
    private readonly binary: string,
    private readonly args: string[],
  ) {}

  /**
   * Starts the server: in-memory by default; with `postgresUrl`, keeping its tuples in that
   * PostgreSQL database as in production (migrated first). With the settings production runs
   * with (OPENFGA_SERVER_SETTINGS: its caches on), so tests meet their staleness too;
   * `flags` come after them and win.
   */
  static async start(
    binary: string,
    options: { postgresUrl?: string; flags?: readonly string[] } = {},
  ): Promise<OpenFgaServer> {
    const datastore = options.postgresUrl
      ? ["--datastore-engine", "postgres", "--datastore-uri", options.postgresUrl]
      : ["--datastore-engine", "memory"];
    if (options.postgresUrl) execFileSync(binary, ["migrate", ...datastore], { stdio: "ignore" });
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const args = [
      "run",
      ...datastore,
      "--http-addr",
      `127.0.0.1:${httpPort}`,
      "--grpc-addr",
      `127.0.0.1:${grpcPort}`,
      "--playground-enabled=false",
      "--metrics-enabled=false",
      "--log-level",
      "warn",
      ...(options.flags ?? []),
    ];
    const server = new OpenFgaServer(
      spawnServer(binary, args),
      `http://127.0.0.1:${httpPort}`,
      binary,
      args,
    );
    await server.answering();
    return server;
  }

  /** Starts a stopped server again, on the same ports and datastore. */
  async restart(): Promise<void> {
    await this.stop();
    this.child = spawnServer(this.binary, this.args);
    await this.answering();
  }

  private async answering(): Promise<void> {
    const child = this.child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`openfga exited with ${child.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`openfga did not start: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGKILL");
    await exited;
  }
}

function spawnServer(binary: string, args: string[]): ChildProcess {
  return spawn(binary, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...OPENFGA_SERVER_SETTINGS },
  });
}

/**
 * A describe block that runs against one real OpenFGA server, started before its tests and
 * stopped after; skipped, saying why, where the server is not installed (never in CI).
 */
export function describeWithOpenFga(
  title: string,
  body: (server: () => OpenFgaServer) => void,
  options: { timeout?: number } = {},
): void {
  const binary = findOpenFgaBinary();
  if (binary.missing) console.log(`skipped: ${title}: ${binary.missing}`);
  describe.skipIf(!binary.path)(title, options, () => {
    let server: OpenFgaServer | undefined;
    beforeAll(async () => {
      server = await OpenFgaServer.start(binary.path as string);
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });
    body(() => server as OpenFgaServer);
  });
}

/** The installed server's path, for a test that starts a server of its own inside describeWithOpenFga. */
export function openFgaBinaryPath(): string {
  const { path, missing } = findOpenFgaBinary();
  if (!path) throw new Error(missing);
  return path;
}
