import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { repoPath } from "./compose-file.js";

/**
 * The demo OpenID Provider of `docker compose up` (deploy/oidc: the example server of
 * zitadel/oidc) as a process. `.ci/run` installs it from the Go module proxy at the version
 * deploy/oidc/Dockerfile pins; where it is missing the test that needs it is skipped saying
 * so. In CI a missing one is a failure, unless .ci/run said it could not install it
 * (OIDC_DEMO_SKIP).
 */

const MODULE = "github.com/zitadel/oidc/v3";

/** The version deploy/oidc/Dockerfile builds: the one compose runs. */
export function pinnedVersion(): string {
  const dockerfile = readFileSync(repoPath("deploy/oidc/Dockerfile"), "utf8");
  const version = new RegExp(`${MODULE.replaceAll("/", "\\/")}/example/server@(v[\\w.-]+)`).exec(
    dockerfile,
  )?.[1];
  if (!version) throw new Error("deploy/oidc/Dockerfile pins no zitadel/oidc version");
  return version;
}

function gopath(): string | undefined {
  try {
    return execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Where .ci/run installs it: its binary is called `server`, so it gets a folder of its own. */
export function installHint(): string {
  return `GOBIN="$(go env GOPATH)/zitadel-oidc" go install ${MODULE}/example/server@${pinnedVersion()}`;
}

export function findDemoOidcBinary(): { path?: string; missing?: string } {
  // .ci/run could not install it (the module proxy refused it): said there, skipped here.
  if (process.env.OIDC_DEMO_SKIP) return { missing: process.env.OIDC_DEMO_SKIP };
  const candidates = [
    process.env.OIDC_DEMO_BIN,
    join(gopath() ?? join(homedir(), "go"), "zitadel-oidc", "server"),
  ];
  const path = candidates.find((candidate) => candidate && existsSync(candidate));
  if (path) {
    // The same provider compose builds, or the test would prove nothing about compose.
    const built = execFileSync("go", ["version", "-m", path], { encoding: "utf8" });
    const version = new RegExp(`\\bmod\\s+${MODULE.replaceAll("/", "\\/")}\\s+(\\S+)`).exec(
      built,
    )?.[1];
    if (version === pinnedVersion()) return { path };
    const stale = `the demo OIDC provider at ${path} is ${version}, not ${pinnedVersion()} as deploy/oidc/Dockerfile pins (${installHint()})`;
    if (process.env.CI) throw new Error(stale);
    return { missing: stale };
  }
  const missing = `the demo OIDC provider is not installed (${installHint()}, as .ci/run does)`;
  if (process.env.CI) throw new Error(missing);
  return { missing };
}

export class DemoOidcServer {
  private output = "";

  private constructor(
    private readonly child: ChildProcess,
    /** Its issuer: http://localhost:PORT/ (the example server names itself so). */
    readonly issuer: string,
  ) {
    child.stdout?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
  }

  /** Starts it with `env` (compose's, its port moved), once its discovery document answers. */
  static async start(binary: string, env: Record<string, string>): Promise<DemoOidcServer> {
    const child = spawn(binary, [], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const server = new DemoOidcServer(child, `http://localhost:${env.PORT}/`);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`the demo OIDC provider exited with ${child.exitCode}: ${server.output}`);
      }
      try {
        const response = await fetch(`${server.issuer}.well-known/openid-configuration`);
        if (response.ok) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`the demo OIDC provider did not start: ${server.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGKILL");
    await exited;
  }
}
