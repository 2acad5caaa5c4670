import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/switchboard.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * `switchboard …` as a real child process, the way a person starts it: only the variables a
 * test gives (plus PATH and HOME), output collected for assertions.
 */
export class SwitchboardProcess {
  stdout = "";
  stderr = "";
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  /**
   * `input`, when given, is written to the process's stdin, which is then closed. It runs in
   * the repository unless `cwd` says otherwise.
   */
  constructor(
    args: string[],
    env: Record<string, string> = {},
    input?: string,
    options: { cwd?: string } = {},
  ) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        LOG_LEVEL: "info",
        ...env,
      },
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (input !== undefined) this.child.stdin?.end(input);
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => resolve({ code, signal }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How the process ended, or undefined while it still runs. */
  get exit(): Exit | undefined {
    const { exitCode: code, signalCode: signal } = this.child;
    return code === null && signal === null ? undefined : { code, signal };
  }

  /**
   * The log reader stops reading, as a stuck log shipper does: what the process writes to
   * stdout from now on fills the pipe and stays there.
   */
  stopReadingStdout(): void {
    this.child.stdout?.removeAllListeners("data");
    this.child.stdout?.pause();
  }

  /** The log reader goes away: the read end of the process's stdout is closed. */
  closeStdout(): void {
    this.child.stdout?.destroy();
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Polls `url` until it answers 200; fails with the process's output if it never does. */
  async waitFor(url: string, timeoutMs = 45_000): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (this.child.exitCode !== null) {
        throw new Error(
          `switchboard exited with ${this.child.exitCode}:\n${this.stderr}\n${this.stdout}`,
        );
      }
      try {
        const response = await fetch(url);
        if (response.ok) return Date.now() - started;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `${url} did not answer within ${timeoutMs} ms:\n${this.stderr}\n${this.stdout}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops the process if it still runs (tests call this in afterEach/afterAll). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Runs a command to its end. */
export async function runSwitchboard(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<Exit & { stdout: string; stderr: string }> {
  const process = new SwitchboardProcess(args, env, input);
  const exit = await process.exited;
  return { ...exit, stdout: process.stdout, stderr: process.stderr };
}
