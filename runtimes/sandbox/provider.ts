/**
 * What a sandbox vendor (E2B, Daytona) must do for the sandbox runtime: the one seam between
 * the vendor-neutral part (harness presets, the turn's flow, the sweeper, sandbox-time cost)
 * and each vendor's SDK. One implementation per vendor, each built on the vendor's official
 * SDK (`e2b`, `@daytonaio/sdk`), with the API address from settings so tests point the real
 * SDK at a local double of the vendor's wire API.
 *
 * A provider is made for one set of credentials (one API key and address); it holds no
 * per-session state: everything it needs to find a sandbox again is the sandbox id.
 */
export interface SandboxProvider {
  /** `e2b` or `daytona`: the manifest's `spec.runtime.type`. */
  readonly vendor: string;
  /**
   * Which vendor account this provider acts for, without the key itself (the API address and
   * a digest of the key): the sweeper lists each account once however many agents use it.
   * Optional: without it, each agent's provider is listed on its own.
   */
  readonly account?: string;
  /** Creates and starts a sandbox; resolves once commands can run in it. */
  create(spec: SandboxSpec, signal: AbortSignal): Promise<SandboxInfo>;
  /**
   * Makes a paused (E2B) or stopped (Daytona) sandbox run again, or confirms a running one.
   * Throws `SandboxGoneError` when the vendor has deleted or expired it.
   */
  resume(sandboxId: string, signal: AbortSignal): Promise<void>;
  /**
   * Runs one process to its end, streaming its output. Aborting `signal` kills the process
   * (and only it: the sandbox stays usable) and rejects with the signal's reason.
   */
  exec(sandboxId: string, command: SandboxCommand, signal: AbortSignal): Promise<SandboxExit>;
  /** Writes a file (creating its folders), e.g. the transcript a harness reads. */
  writeFile(sandboxId: string, path: string, content: string, signal: AbortSignal): Promise<void>;
  /** Pauses (E2B) or stops (Daytona) it so it costs least while keeping its files. */
  suspend(sandboxId: string): Promise<void>;
  /** Destroys it. A sandbox already gone is not an error. */
  destroy(sandboxId: string): Promise<void>;
  /** Every sandbox of this account carrying all of `labels` (E2B metadata, Daytona labels). */
  list(labels: Record<string, string>): Promise<SandboxInfo[]>;
  /** Releases clients and sockets. */
  close?(): Promise<void>;
}

export interface SandboxSpec {
  /** E2B template id/name, or Daytona snapshot; the vendor's default when absent. */
  template?: string | undefined;
  cpu?: number | undefined;
  memoryMb?: number | undefined;
  diskGb?: number | undefined;
  /** The vendor's own idle limit (E2B timeout, Daytona auto-stop), a backstop to ours. */
  timeoutSeconds?: number | undefined;
  /** Outbound network: false blocks all egress where the vendor allows it; a list allows only those hosts/CIDRs. */
  network?: { allowOut?: string[] | undefined; blockAll?: boolean | undefined } | undefined;
  /** Switchboard's labels: `switchboard.agent`, `switchboard.session`, `switchboard.deployment`. */
  labels: Record<string, string>;
  /** Environment for every process, without secrets (secrets go per command, per turn). */
  envs?: Record<string, string> | undefined;
}

export interface SandboxInfo {
  id: string;
  labels: Record<string, string>;
  /** The vendor's state in its own words (`running`, `paused`, `started`, `stopped`, …). */
  state: string;
  /** When the vendor says it started; for idle and age checks. */
  createdAt?: Date | undefined;
  /** CPUs and memory as created, for pricing sandbox time. */
  cpu?: number | undefined;
  memoryMb?: number | undefined;
}

export interface SandboxCommand {
  /** A shell command line; the harness quotes every value it puts in. */
  cmd: string;
  cwd?: string | undefined;
  /** Per-command environment: the run's model proxy key and base URL, resolved secrets. */
  envs?: Record<string, string> | undefined;
  /** Text given to the process's standard input, then closed. */
  stdin?: string | undefined;
  onStdout?: ((chunk: string) => void) | undefined;
  onStderr?: ((chunk: string) => void) | undefined;
}

export interface SandboxExit {
  exitCode: number;
  /** The whole of stdout and stderr (also streamed through the callbacks). */
  stdout: string;
  stderr: string;
}

/** The vendor deleted or expired the sandbox: the runtime replaces it, primed with the transcript. */
export class SandboxGoneError extends Error {
  constructor(
    readonly sandboxId: string,
    message = `Sandbox ${sandboxId} no longer exists at the vendor.`,
  ) {
    super(message);
    this.name = "SandboxGoneError";
  }
}
