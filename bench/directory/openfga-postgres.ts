/**
 * An OpenFGA server keeping its tuples in PostgreSQL, as in production. The test helper's
 * in-memory datastore reads by scanning every tuple, so with this bench's 47,000 tuples a
 * batch of 50 checks ran past OpenFGA's deadline: it measures the datastore, not the design.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { freePort } from "../../test/support/ports.js";

export class OpenFgaOnPostgres {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(binary: string, databaseUrl: string): Promise<OpenFgaOnPostgres> {
    const datastore = ["--datastore-engine", "postgres", "--datastore-uri", databaseUrl];
    execFileSync(binary, ["migrate", ...datastore], { stdio: "ignore" });
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const child = spawn(
      binary,
      [
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
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const server = new OpenFgaOnPostgres(child, `http://127.0.0.1:${httpPort}`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`openfga exited with ${child.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`${server.url}/healthz`)).ok) return server;
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
