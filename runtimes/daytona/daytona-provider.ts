import { createHash, randomUUID } from "node:crypto";
import { type Daytona, DaytonaNotFoundError, type Sandbox } from "@daytonaio/sdk";
import { RUNTIME_ERROR_CODES, RuntimeError, unreachableError } from "../runtime-error.js";
import {
  exportLines,
  quote,
  type SandboxCommand,
  type SandboxExit,
  SandboxGoneError,
  type SandboxInfo,
  type SandboxProvider,
  type SandboxSpec,
} from "../sandbox/index.js";
import { DAYTONA, daytonaFailure } from "./daytona-errors.js";
import type { EgressGuard } from "./egress-guard.js";

/** How long creating or starting a sandbox may take (the SDK waits for `started`). */
const START_TIMEOUT_SECONDS = 120;
/** Where per-command files (the environment, stdin) are written, relative to the sandbox user's home. */
const SCRATCH = ".switchboard";

/** States of a sandbox Daytona will not bring back. */
const GONE_STATES = new Set(["destroyed", "destroying"]);

/**
 * The sandbox seam on Daytona, through the official `@daytonaio/sdk`: sandboxes are
 * created from a snapshot with resources, labels, auto-stop and network settings
 * (`POST /sandbox`), started and stopped (`POST /sandbox/{id}/start|stop`), deleted and
 * listed by label. A command runs in a toolbox session of its own
 * (`POST /process/session`, `…/exec` with `runAsync`), its output streamed from the logs
 * WebSocket (`…/command/{id}/logs?follow=true`), its exit code read after; killing it
 * deletes the session, which ends its processes and nothing else.
 *
 * Secrets never go on the command line (Daytona keeps session commands): they are written
 * to a file the command sources and deletes before it runs, in a subshell of its own.
 */
export class DaytonaProvider implements SandboxProvider {
  readonly vendor = "daytona";
  readonly account: string;
  private readonly sandboxes = new Map<string, Sandbox>();

  constructor(
    private readonly client: Daytona,
    private readonly egress: EgressGuard,
    apiUrl: string,
    apiKey: string,
  ) {
    const digest = createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
    this.account = `daytona ${apiUrl} key#${digest}`;
    egress.guard(internals(client).sandboxApi?.axios);
  }

  async create(spec: SandboxSpec, signal: AbortSignal): Promise<SandboxInfo> {
    const resources =
      spec.cpu !== undefined || spec.memoryMb !== undefined || spec.diskGb !== undefined
        ? {
            ...(spec.cpu !== undefined ? { cpu: spec.cpu } : {}),
            ...(spec.memoryMb !== undefined ? { memory: Math.ceil(spec.memoryMb / 1024) } : {}),
            ...(spec.diskGb !== undefined ? { disk: spec.diskGb } : {}),
          }
        : undefined;
    const allowOut = spec.network?.allowOut ?? [];
    const cidrs = allowOut.filter((entry) => /^[0-9a-fA-F:.]+\/\d+$/.test(entry));
    const domains = allowOut.filter((entry) => !cidrs.includes(entry));
    const sandbox = await this.call("creating a sandbox", signal, () =>
      this.client.create(
        {
          ...(spec.template ? { snapshot: spec.template } : {}),
          ...(resources ? { resources } : {}),
          labels: { ...spec.labels },
          envVars: { ...(spec.envs ?? {}) },
          autoStopInterval: Math.max(1, Math.ceil((spec.timeoutSeconds ?? 900) / 60)),
          ...(spec.network?.blockAll ? { networkBlockAll: true } : {}),
          ...(cidrs.length > 0 ? { networkAllowList: cidrs.join(",") } : {}),
          ...(domains.length > 0 ? { domainAllowList: domains.join(",") } : {}),
        },
        { timeout: START_TIMEOUT_SECONDS },
      ),
    );
    this.remember(sandbox);
    return infoOf(sandbox);
  }

  async resume(sandboxId: string, signal: AbortSignal): Promise<void> {
    const sandbox = await this.sandbox(sandboxId, signal);
    if (GONE_STATES.has(String(sandbox.state))) throw new SandboxGoneError(sandboxId);
    if (sandbox.state === "started") return;
    if (sandbox.state === "error" && sandbox.recoverable === false) {
      throw new SandboxGoneError(
        sandboxId,
        `Sandbox ${sandboxId} is in error: ${sandbox.errorReason}`,
      );
    }
    await this.call("starting the sandbox", signal, async () => {
      if (sandbox.state === "stopping") await sandbox.waitUntilStopped(START_TIMEOUT_SECONDS);
      await sandbox.start(START_TIMEOUT_SECONDS);
    });
  }

  async exec(
    sandboxId: string,
    command: SandboxCommand,
    signal: AbortSignal,
  ): Promise<SandboxExit> {
    const sandbox = await this.sandbox(sandboxId, signal);
    const session = `switchboard-${randomUUID()}`;
    const steps: string[] = [];
    if (command.envs && Object.keys(command.envs).length > 0) {
      const path = `${SCRATCH}/env-${randomUUID()}`;
      await this.writeFile(sandboxId, path, exportLines(command.envs), signal);
      steps.push(`. ${quote(path)}`, `rm -f ${quote(path)}`);
    }
    let stdinPath: string | undefined;
    if (command.stdin !== undefined) {
      stdinPath = `${SCRATCH}/stdin-${randomUUID()}`;
      await this.writeFile(sandboxId, stdinPath, command.stdin, signal);
    }
    if (command.cwd) steps.push(`cd ${quote(command.cwd)}`);
    const run = stdinPath ? `${command.cmd} < ${quote(stdinPath)}` : command.cmd;
    // A subshell: the environment dies with it, and `cd` or `exit` cannot touch the session.
    const line = `( ${[...steps.map((step) => `${step} &&`), run].join(" ")} )`;
    await this.call("opening a command session", signal, () =>
      sandbox.process.createSession(session),
    );
    let killed: Promise<unknown> | undefined;
    const kill = () => {
      killed = sandbox.process.deleteSession(session).catch(() => {});
    };
    let stdout = "";
    let stderr = "";
    try {
      const started = await this.call("running the agent's command", signal, () =>
        sandbox.process.executeSessionCommand(session, { command: line, runAsync: true }),
      );
      if (signal.aborted) throw abortReason(signal);
      signal.addEventListener("abort", kill, { once: true });
      await this.egress.checkUrl(internals(sandbox).clientConfig?.basePath ?? "");
      const streamed = sandbox.process.getSessionCommandLogs(
        session,
        started.cmdId,
        (chunk) => {
          stdout += chunk;
          command.onStdout?.(chunk);
        },
        (chunk) => {
          stderr += chunk;
          command.onStderr?.(chunk);
        },
      );
      await untilAborted(streamed, signal);
      const exitCode = await this.exitCode(sandbox, session, started.cmdId, signal);
      return { exitCode, stdout, stderr };
    } catch (error) {
      if (signal.aborted) {
        // The process is dead before the turn ends (and the sandbox is stopped after it).
        await killed;
        throw abortReason(signal);
      }
      throw this.failure(error, "running the agent's command");
    } finally {
      signal.removeEventListener("abort", kill);
      if (!killed) sandbox.process.deleteSession(session).catch(() => {});
      if (stdinPath) {
        sandbox.fs.deleteFile(stdinPath).catch(() => {});
      }
    }
  }

  async writeFile(
    sandboxId: string,
    path: string,
    content: string,
    signal: AbortSignal,
  ): Promise<void> {
    const sandbox = await this.sandbox(sandboxId, signal);
    await this.call("writing a file into the sandbox", signal, () =>
      sandbox.fs.uploadFile(Buffer.from(content, "utf8"), path),
    );
  }

  async suspend(sandboxId: string): Promise<void> {
    const sandbox = await this.sandbox(sandboxId);
    if (sandbox.state === "stopped") return;
    await this.call("stopping the sandbox", undefined, () => sandbox.stop(START_TIMEOUT_SECONDS));
  }

  async destroy(sandboxId: string): Promise<void> {
    let sandbox: Sandbox;
    try {
      sandbox = await this.sandbox(sandboxId);
    } catch (error) {
      if (error instanceof SandboxGoneError) return;
      throw error;
    }
    try {
      await sandbox.delete(START_TIMEOUT_SECONDS);
    } catch (error) {
      if (error instanceof DaytonaNotFoundError) return;
      throw this.failure(error, "deleting the sandbox");
    } finally {
      this.sandboxes.delete(sandboxId);
    }
  }

  async list(labels: Record<string, string>): Promise<SandboxInfo[]> {
    const found: SandboxInfo[] = [];
    await this.call("listing sandboxes", undefined, async () => {
      for await (const sandbox of this.client.list({ labels })) {
        this.remember(sandbox);
        if (GONE_STATES.has(String(sandbox.state))) continue;
        found.push(infoOf(sandbox));
      }
    });
    return found;
  }

  async close(): Promise<void> {
    this.sandboxes.clear();
    await this.client[Symbol.asyncDispose]().catch(() => {});
  }

  /** The SDK's sandbox object (one GET per turn); SandboxGoneError when Daytona has none. */
  private async sandbox(sandboxId: string, signal?: AbortSignal): Promise<Sandbox> {
    const known = this.sandboxes.get(sandboxId);
    if (known) return known;
    try {
      const sandbox = await this.call("reading the sandbox", signal, () =>
        this.client.get(sandboxId),
      );
      this.remember(sandbox);
      return sandbox;
    } catch (error) {
      if (error instanceof RuntimeError && error.cause instanceof DaytonaNotFoundError) {
        throw new SandboxGoneError(sandboxId);
      }
      throw error;
    }
  }

  private remember(sandbox: Sandbox): void {
    this.egress.guard(internals(sandbox).axiosInstance);
    this.sandboxes.set(sandbox.id, sandbox);
  }

  /**
   * The command's exit code. Daytona records it as the command ends, which may be a moment
   * after its log stream closes: asked a few times.
   */
  private async exitCode(
    sandbox: Sandbox,
    session: string,
    cmdId: string,
    signal: AbortSignal,
  ): Promise<number> {
    for (let tries = 0; tries < 50; tries++) {
      if (signal.aborted) throw abortReason(signal);
      const command = await sandbox.process.getSessionCommand(session, cmdId);
      if (typeof command.exitCode === "number") return command.exitCode;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * (tries + 1), 500)));
    }
    throw new RuntimeError(
      RUNTIME_ERROR_CODES.unavailable,
      `${DAYTONA} did not report the agent's command as finished after its output ended.`,
      { retryable: true },
    );
  }

  /** One SDK call, its failure in words; a cancelled turn stops waiting at once. */
  private async call<T>(
    doing: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return signal ? await untilAborted(fn(), signal) : await fn();
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw this.failure(error, doing);
    }
  }

  private failure(error: unknown, doing: string): RuntimeError {
    if (error instanceof RuntimeError) return error;
    if (this.egress.refusal) return unreachableError(DAYTONA, this.egress.refusal);
    return daytonaFailure(error, doing);
  }
}

/** The SDK objects' fields the provider reaches for: its HTTP clients, to hold them to egress. */
function internals(object: unknown): {
  sandboxApi?: { axios?: never };
  axiosInstance?: never;
  clientConfig?: { basePath?: string };
} {
  return object as never;
}

function infoOf(sandbox: Sandbox): SandboxInfo {
  return {
    id: sandbox.id,
    labels: { ...(sandbox.labels ?? {}) },
    state: String(sandbox.state ?? "unknown"),
    createdAt: sandbox.createdAt ? new Date(sandbox.createdAt) : undefined,
    cpu: sandbox.cpu,
    memoryMb: typeof sandbox.memory === "number" ? sandbox.memory * 1024 : undefined,
  };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The turn was cancelled.", "AbortError");
}

/** `promise`, or the signal's reason as soon as it aborts (the SDK takes no signals). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
