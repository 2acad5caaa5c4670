import { createHash } from "node:crypto";
import type { CommandHandle, Sandbox } from "e2b";
import { type CheckedTunnel, checkedTunnel, EgressPolicy } from "../egress/index.js";
import { excerpt } from "../excerpt.js";
import {
  httpStatusError,
  RUNTIME_ERROR_CODES,
  RuntimeError,
  unreachableError,
} from "../runtime-error.js";
import {
  type SandboxCommand,
  type SandboxExit,
  SandboxGoneError,
  type SandboxInfo,
  type SandboxProvider,
  type SandboxSpec,
} from "../sandbox/provider.js";

/** Where E2B is and the key to it; the fields of `spec.runtime` with the key resolved. */
export interface E2bConnection {
  apiKey: string;
  apiUrl?: string | undefined;
  domain?: string | undefined;
  sandboxUrl?: string | undefined;
}

export interface E2bProviderOptions {
  /** Where E2B may be; without it, internal addresses are refused (a bare provider). */
  egress?: EgressPolicy;
  /** The time to live each resume renews (E2B's own backstop); an hour unless told. */
  timeoutSeconds?: number;
  /** One API request's limit (not a command's: commands run until they end or are aborted). */
  requestTimeoutMs?: number;
}

/** E2B's default template, as the SDK names it. */
const DEFAULT_TEMPLATE = "base";
type E2bSdk = Omit<typeof import("e2b"), "default">;
let sdk: Promise<E2bSdk> | undefined;
/**
 * The SDK, loaded on first use: importing it costs a second or two, which every CLI command
 * (they all build the runtime registry) would otherwise pay without ever calling E2B.
 */
const loadSdk = (): Promise<E2bSdk> => {
  const loading = sdk ?? import("e2b");
  sdk = loading;
  return loading;
};

/** How long an aborted command's kill is waited for before the abort is reported anyway. */
const KILL_WAIT_MS = 5_000;
/** Sandbox instances kept for their envd token, so a turn's commands do not reconnect each time. */
const ATTACHED_LIMIT = 256;

/**
 * E2B sandboxes through the official `e2b` SDK: create (`POST /v2/sandboxes`), resume
 * (`POST /v2/sandboxes/{id}/connect`, which resumes a paused one), pause, kill and list on
 * the control plane; commands and files through envd inside the sandbox (Connect RPC
 * `process.Process/Start`, `SendSignal`, `SendInput`, `CloseStdin`; `POST /files`).
 *
 * The SDK takes no fetch or dispatcher, only a proxy URL: every request, to the API and to
 * envd alike, goes through the egress policy's checked tunnel, so a manifest's `api_url`
 * or `domain` reaches only what RUNTIME_EGRESS_ALLOW permits, checked after DNS.
 *
 * The API key is used only in the SDK's `X-API-KEY` header; every error this provider
 * throws is a `RuntimeError` or `SandboxGoneError` in words, with the key scrubbed.
 */
export class E2bSandboxProvider implements SandboxProvider {
  readonly vendor = "e2b";
  /** The account, without its key: E2B's address and a digest of the key (the sweeper lists each once). */
  readonly account: string;
  private readonly connection: E2bConnection;
  private readonly egress: EgressPolicy;
  private readonly timeoutSeconds: number;
  private readonly requestTimeoutMs: number;
  private readonly attached = new Map<string, Sandbox>();
  private tunnel: CheckedTunnel | undefined;

  constructor(connection: E2bConnection, options: E2bProviderOptions = {}) {
    this.connection = connection;
    const digest = createHash("sha256").update(connection.apiKey).digest("hex").slice(0, 16);
    this.account = `e2b:${connection.apiUrl ?? connection.domain ?? "e2b.app"}:${digest}`;
    this.egress = options.egress ?? new EgressPolicy();
    this.timeoutSeconds = options.timeoutSeconds ?? 3600;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  async create(spec: SandboxSpec, signal: AbortSignal): Promise<SandboxInfo> {
    const { Sandbox } = await loadSdk();
    const options = await this.options(signal);
    const sandbox = await this.call(
      "create a sandbox",
      () =>
        Sandbox.create(spec.template ?? DEFAULT_TEMPLATE, {
          ...options,
          metadata: spec.labels,
          ...(spec.envs ? { envs: spec.envs } : {}),
          timeoutMs: (spec.timeoutSeconds ?? this.timeoutSeconds) * 1000,
          ...networkOptions(spec.network),
        }),
      undefined,
      signal,
    );
    this.remember(sandbox);
    // The create answer has no size; the sandbox's details do (its template's CPUs and memory).
    const details = await Sandbox.getInfo(sandbox.sandboxId, options).catch(() => undefined);
    return {
      id: sandbox.sandboxId,
      labels: details?.metadata ?? spec.labels,
      state: details?.state ?? "running",
      createdAt: details?.startedAt,
      cpu: details?.cpuCount,
      memoryMb: details?.memoryMB,
    };
  }

  async resume(sandboxId: string, signal: AbortSignal): Promise<void> {
    await this.attach(sandboxId, signal, true);
  }

  async exec(
    sandboxId: string,
    command: SandboxCommand,
    signal: AbortSignal,
  ): Promise<SandboxExit> {
    const sandbox = await this.attach(sandboxId, signal, false);
    signal.throwIfAborted();
    const handle = await this.call(
      "start a command",
      () =>
        sandbox.commands.run(command.cmd, {
          background: true,
          ...(command.cwd ? { cwd: command.cwd } : {}),
          ...(command.envs ? { envs: command.envs } : {}),
          // Only when there is input: templates with an envd older than 0.3 refuse `stdin: false`.
          ...(command.stdin !== undefined ? { stdin: true } : {}),
          onStdout: (chunk) => command.onStdout?.(chunk),
          onStderr: (chunk) => command.onStderr?.(chunk),
          // The turn's own signal and timeout end it; E2B's default of 60 seconds would not.
          timeoutMs: 0,
          requestTimeoutMs: this.requestTimeoutMs,
        }),
      sandboxId,
      signal,
    );
    return await this.finish(sandboxId, handle, command, signal);
  }

  async writeFile(
    sandboxId: string,
    path: string,
    content: string,
    signal: AbortSignal,
  ): Promise<void> {
    const sandbox = await this.attach(sandboxId, signal, false);
    await this.call(
      "write a file in the sandbox",
      () => sandbox.files.write(path, content, { signal, requestTimeoutMs: this.requestTimeoutMs }),
      sandboxId,
      signal,
    );
  }

  async suspend(sandboxId: string): Promise<void> {
    const { Sandbox } = await loadSdk();
    this.attached.delete(sandboxId);
    const options = await this.options();
    // `false` means it was paused already: nothing more to do.
    await this.call("pause the sandbox", () => Sandbox.pause(sandboxId, options), sandboxId);
  }

  async destroy(sandboxId: string): Promise<void> {
    const { Sandbox } = await loadSdk();
    this.attached.delete(sandboxId);
    const options = await this.options();
    // `false` means E2B no longer has it, which is what destroying wants.
    await this.call("kill the sandbox", () => Sandbox.kill(sandboxId, options));
  }

  async list(labels: Record<string, string>): Promise<SandboxInfo[]> {
    const { Sandbox } = await loadSdk();
    const options = await this.options();
    const pages = Sandbox.list({ ...options, query: { metadata: labels }, limit: 100 });
    const found: SandboxInfo[] = [];
    while (pages.hasNext) {
      const page = await this.call("list sandboxes", () => pages.nextItems());
      for (const sandbox of page) {
        found.push({
          id: sandbox.sandboxId,
          labels: sandbox.metadata,
          state: sandbox.state,
          createdAt: sandbox.startedAt,
          cpu: sandbox.cpuCount,
          memoryMb: sandbox.memoryMB,
        });
      }
    }
    return found;
  }

  async close(): Promise<void> {
    this.attached.clear();
  }

  /**
   * The sandbox with its envd token, connecting (and so resuming a paused one) when this
   * provider has not yet, or always when `fresh`: a resume must renew the time to live.
   */
  private async attach(sandboxId: string, signal: AbortSignal, fresh: boolean): Promise<Sandbox> {
    const known = fresh ? undefined : this.attached.get(sandboxId);
    if (known) return known;
    const { Sandbox } = await loadSdk();
    const options = await this.options(signal);
    const sandbox = await this.call(
      "resume the sandbox",
      () => Sandbox.connect(sandboxId, { ...options, timeoutMs: this.timeoutSeconds * 1000 }),
      sandboxId,
      signal,
    );
    this.remember(sandbox);
    return sandbox;
  }

  private remember(sandbox: Sandbox): void {
    this.attached.delete(sandbox.sandboxId);
    this.attached.set(sandbox.sandboxId, sandbox);
    for (const oldest of this.attached.keys()) {
      if (this.attached.size <= ATTACHED_LIMIT) break;
      this.attached.delete(oldest);
    }
  }

  /** Feeds stdin, waits for the end, and kills the process (only it) when `signal` aborts. */
  private async finish(
    sandboxId: string,
    handle: CommandHandle,
    command: SandboxCommand,
    signal: AbortSignal,
  ): Promise<SandboxExit> {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => {
        // SIGKILL through envd (waited for, briefly, so the next turn never races the old
        // process), then stop reading; the sandbox itself stays up.
        const killed = handle.kill().catch(() => false);
        const bounded = new Promise((settle) => setTimeout(settle, KILL_WAIT_MS).unref());
        void Promise.race([killed, bounded]).finally(() => {
          void handle.disconnect();
          reject(signal.reason);
        });
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    const { CommandExitError } = await loadSdk();
    try {
      if (command.stdin !== undefined) {
        await Promise.race([this.feed(handle, command.stdin), aborted]);
      }
      const result = await Promise.race([
        handle.wait().catch((error: unknown) => {
          if (error instanceof CommandExitError) return error;
          throw error;
        }),
        aborted,
      ]);
      // Ended by the kill itself: still an abort, reported once the kill went out.
      if (signal.aborted) await aborted;
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    } catch (error) {
      if (signal.aborted) {
        await aborted.catch(() => undefined);
        throw signal.reason;
      }
      throw await this.translated("run a command", error, sandboxId);
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }

  /** Gives the process its input and closes it; a process that ended without reading it is fine. */
  private async feed(handle: CommandHandle, stdin: string): Promise<void> {
    const { NotFoundError } = await loadSdk();
    try {
      if (stdin) await handle.sendStdin(stdin, { requestTimeoutMs: this.requestTimeoutMs });
      await handle.closeStdin({ requestTimeoutMs: this.requestTimeoutMs });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  private async options(signal?: AbortSignal) {
    this.tunnel ??= await checkedTunnel(this.egress);
    return {
      apiKey: this.connection.apiKey,
      ...(this.connection.apiUrl ? { apiUrl: this.connection.apiUrl } : {}),
      ...(this.connection.domain ? { domain: this.connection.domain } : {}),
      ...(this.connection.sandboxUrl ? { sandboxUrl: this.connection.sandboxUrl } : {}),
      proxy: this.tunnel.url,
      requestTimeoutMs: this.requestTimeoutMs,
      ...(signal ? { signal } : {}),
    };
  }

  /** Runs one SDK call, turning what it throws into Switchboard's errors. */
  private async call<T>(
    what: string,
    run: () => Promise<T>,
    sandboxId?: string,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw await this.translated(what, error, sandboxId);
    }
  }

  private async translated(what: string, error: unknown, sandboxId?: string): Promise<Error> {
    if (error instanceof SandboxGoneError || error instanceof RuntimeError) return error;
    const e2b = await loadSdk();
    const { NotFoundError, SandboxNotFoundError, TimeoutError } = e2b;
    if (sandboxId && (error instanceof SandboxNotFoundError || error instanceof NotFoundError)) {
      this.attached.delete(sandboxId);
      return new SandboxGoneError(sandboxId);
    }
    // envd answering 502 or dropping the connection: gone, or only unreachable for now?
    if (sandboxId && error instanceof TimeoutError && (await this.isGone(sandboxId))) {
      this.attached.delete(sandboxId);
      return new SandboxGoneError(sandboxId);
    }
    return this.scrubbed(this.runtimeError(e2b, what, error));
  }

  private runtimeError(e2b: E2bSdk, what: string, error: unknown): RuntimeError {
    const { AuthenticationError, RateLimitError, SandboxError, TimeoutError } = e2b;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof AuthenticationError) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        `E2B refused the API key (HTTP 401) when asked to ${what}; check the agent's api_key secret`,
      );
    }
    if (error instanceof RateLimitError) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `E2B is rate limiting this account (HTTP 429) while asked to ${what}`,
        { retryable: true },
      );
    }
    if (error instanceof SandboxError && error.statusCode !== undefined) {
      const detail = message.replace(/^\d{3}: /, "");
      return httpStatusError(`E2B, asked to ${what},`, error.statusCode, detail);
    }
    const refusal = this.refusalIn(error);
    if (refusal) return unreachableError(`E2B (to ${what})`, refusal);
    if (error instanceof TimeoutError || isRequestTimeout(error)) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `E2B did not answer in time when asked to ${what}`,
        { retryable: true },
      );
    }
    if (error instanceof SandboxError) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.badResponse,
        `E2B could not ${what}: ${excerpt(message)}`,
      );
    }
    return unreachableError(`E2B (to ${what})`, error);
  }

  /** The egress refusal behind an SDK error: undici reports only "Proxy response (403)". */
  private refusalIn(error: unknown) {
    for (let current = error, depth = 0; current instanceof Error && depth < 6; depth++) {
      if (/Proxy response \(403\)/.test(current.message)) {
        for (const url of this.hosts()) {
          const refusal = this.tunnel?.refusalFor(url);
          if (refusal) return refusal;
        }
      }
      current = current.cause;
    }
    return undefined;
  }

  private hosts(): string[] {
    const domain = this.connection.domain ?? "e2b.app";
    const urls = [
      this.connection.apiUrl ?? `https://api.${domain}`,
      this.connection.sandboxUrl ?? `https://sandbox.${domain}`,
    ];
    return urls.map((url) => new URL(url).hostname);
  }

  private async isGone(sandboxId: string): Promise<boolean> {
    const { NotFoundError, Sandbox, SandboxNotFoundError } = await loadSdk();
    try {
      await Sandbox.getInfo(sandboxId, await this.options());
      return false;
    } catch (error) {
      return error instanceof SandboxNotFoundError || error instanceof NotFoundError;
    }
  }

  /** The API key never leaves in an error, whatever a server or the SDK put in the text. */
  private scrubbed(error: RuntimeError): RuntimeError {
    const key = this.connection.apiKey;
    if (!key || !error.message.includes(key)) return error;
    return new RuntimeError(error.code, error.message.split(key).join("[redacted]"), {
      retryable: error.retryable,
    });
  }
}

function networkOptions(network: SandboxSpec["network"]) {
  if (!network) return {};
  if (network.blockAll) return { allowInternetAccess: false };
  if (network.allowOut && network.allowOut.length > 0) {
    // E2B lets allowOut win over denyOut: deny everything, allow only these.
    return { network: { allowOut: network.allowOut, denyOut: ["0.0.0.0/0"] } };
  }
  return {};
}

/** A DOMException from the SDK's own request timer (not the caller's signal). */
function isRequestTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}
