import type { z } from "zod";
import { excerpt } from "../excerpt.js";
import type {
  AgentRuntime,
  RuntimeEvent,
  RuntimeHandle,
  SecretResolver,
  TurnRequest,
} from "../runtime.js";
import { isRuntimeError, RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import { type SandboxSize, sandboxTimeUsage } from "./cost.js";
import { planHarness, TRANSCRIPT_FILE } from "./harness.js";
import { sandboxLabels } from "./labels.js";
import { SandboxGoneError, type SandboxProvider, type SandboxSpec } from "./provider.js";
import type { SandboxSettings } from "./settings.js";

/** Makes a provider for one agent's settings, resolving its key through `secrets` (this turn's). */
export type SandboxProviderFactory<S extends SandboxSettings> = (
  settings: S,
  secrets: SecretResolver,
) => Promise<SandboxProvider>;

export interface SandboxRuntimeOptions<S extends SandboxSettings> {
  /** `daytona`, `e2b`: the manifest's `spec.runtime.type`. */
  type: string;
  /** How the vendor is named in messages people read. */
  vendorName: string;
  settings: z.ZodType<S>;
  provider: SandboxProviderFactory<S>;
  /** This deployment's label on every sandbox (SANDBOX_DEPLOYMENT_LABEL). */
  deployment?: string | undefined;
  /** How long stopping a sandbox after a turn may take before the turn ends anyway. */
  suspendTimeoutMs?: number | undefined;
  now?: () => number;
}

/**
 * The handle: the sandbox, its size (for pricing its time), and how many turns ran in it
 * (a preset continues its conversation from the second on).
 */
export interface SandboxHandle {
  vendor: string;
  sandboxId: string;
  cpu: number;
  memoryGib: number;
  turns: number;
}

export function sandboxHandleOf(
  raw: RuntimeHandle | null,
  vendor: string,
): SandboxHandle | undefined {
  if (!raw || raw.vendor !== vendor || typeof raw.sandboxId !== "string" || !raw.sandboxId) {
    return undefined;
  }
  const number = (value: unknown, fallback: number) =>
    typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallback;
  return {
    vendor,
    sandboxId: raw.sandboxId,
    cpu: number(raw.cpu, 1),
    memoryGib: number(raw.memoryGib, 1),
    turns: number(raw.turns, 0),
  };
}

/**
 * An agent in a sandbox of its own, on any vendor behind `SandboxProvider`: a Switchboard
 * session owns one sandbox, kept between turns and stopped after each.
 *
 * A turn: the first creates the sandbox (template, size, network, the vendor's auto-stop as
 * a backstop, labels naming deployment, agent and session) and yields its id as the handle
 * at once; later turns resume it. A sandbox the vendor deleted or expired is replaced by a
 * new one, the transcript written to it and the input primed with it, and the turn says so
 * (`session_restarted`). The harness runs with the run's model proxy key and the manifest's
 * referenced secrets in its process's environment only; its stdout streams as the answer.
 * Whatever happens the sandbox is suspended when the turn ends, and its running time is
 * booked at the configured price as an estimate. Cancelling kills the process only.
 */
export class SandboxRuntime<S extends SandboxSettings> implements AgentRuntime<S> {
  readonly type: string;
  readonly settings: z.ZodType<S>;
  private readonly vendorName: string;
  private readonly provider: SandboxProviderFactory<S>;
  readonly deployment: string;
  private readonly suspendTimeoutMs: number;
  private readonly now: () => number;

  constructor(options: SandboxRuntimeOptions<S>) {
    this.type = options.type;
    this.vendorName = options.vendorName;
    this.settings = options.settings;
    this.provider = options.provider;
    this.deployment = options.deployment ?? "switchboard";
    this.suspendTimeoutMs = options.suspendTimeoutMs ?? 90_000;
    this.now = options.now ?? Date.now;
  }

  /** The provider for an agent's settings: the sweeper lists and destroys through it. */
  openProvider(settings: S, secrets: SecretResolver): Promise<SandboxProvider> {
    return this.provider(settings, secrets);
  }

  async *turn(request: TurnRequest<S>): AsyncIterable<RuntimeEvent> {
    const { settings, signal } = request;
    if (signal.aborted) return;
    const provider = await this.provider(settings, request.secrets);
    let running: { id: string; since: number; size: SandboxSize } | undefined;
    let suspended = false;
    const suspend = async (): Promise<RuntimeEvent | undefined> => {
      if (!running || suspended) return undefined;
      suspended = true;
      await withTimeout(provider.suspend(running.id), this.suspendTimeoutMs).catch(() => {
        // The vendor's auto-stop (auto_stop_minutes) stops it; the sweeper destroys it if idle.
      });
      return {
        type: "usage",
        usage: sandboxTimeUsage(this.type, settings, running.size, this.now() - running.since),
      };
    };
    try {
      let failure: unknown;
      try {
        const since = this.now();
        const opened = yield* this.open(provider, request);
        running = { id: opened.sandboxId, since, size: opened };
        yield* this.run(provider, request, opened);
      } catch (error) {
        failure = error;
      }
      const usage = await suspend();
      if (usage) yield usage;
      if (failure !== undefined && !signal.aborted) throw this.asRuntimeError(failure);
    } finally {
      await suspend();
      await provider.close?.().catch(() => {});
    }
  }

  /** Destroys the session's sandbox when Switchboard closes the session. */
  async closeSession(settings: S, raw: RuntimeHandle, secrets: SecretResolver): Promise<void> {
    const handle = sandboxHandleOf(raw, this.type);
    if (!handle) return;
    const provider = await this.provider(settings, secrets);
    try {
      await provider.destroy(handle.sandboxId);
    } finally {
      await provider.close?.().catch(() => {});
    }
  }

  /**
   * The session's sandbox, running: resumed, or created (primed when it replaces a lost one).
   * Yields the handle as soon as the sandbox is known.
   */
  private async *open(
    provider: SandboxProvider,
    request: TurnRequest<S>,
  ): AsyncGenerator<RuntimeEvent, SandboxHandle & { fresh: boolean; restarted: boolean }> {
    const { settings, signal } = request;
    const existing = sandboxHandleOf(request.handle, this.type);
    let lost: string | undefined;
    if (existing) {
      try {
        await provider.resume(existing.sandboxId, signal);
        yield { type: "handle", handle: { ...existing } };
        return { ...existing, fresh: false, restarted: false };
      } catch (error) {
        if (!(error instanceof SandboxGoneError)) throw error;
        lost = `${this.vendorName} no longer has sandbox ${existing.sandboxId}`;
      }
    } else if (request.handle) {
      lost = "the session's earlier runtime was not a sandbox of this vendor";
    }
    const info = await provider.create(this.specFor(request), signal);
    const handle: SandboxHandle = {
      vendor: this.type,
      sandboxId: info.id,
      cpu: settings.cpu ?? info.cpu ?? 1,
      memoryGib: settings.memory_gib ?? (info.memoryMb ? info.memoryMb / 1024 : 1),
      turns: 0,
    };
    yield { type: "handle", handle: { ...handle } };
    const primed = lost !== undefined && request.transcript.length > 0;
    if (lost !== undefined) yield sessionRestarted(lost);
    else {
      yield {
        type: "status",
        status: "session_started",
        message: `${this.vendorName} sandbox ${excerpt(info.id, 100)}`,
      };
    }
    return { ...handle, fresh: true, restarted: primed };
  }

  private specFor(request: TurnRequest<S>): SandboxSpec {
    const { settings } = request;
    return {
      template: settings.template,
      cpu: settings.cpu,
      memoryMb: settings.memory_gib === undefined ? undefined : settings.memory_gib * 1024,
      diskGb: settings.disk_gib,
      timeoutSeconds: settings.auto_stop_minutes * 60,
      network: settings.network
        ? { blockAll: settings.network.block_all, allowOut: settings.network.allow_out }
        : undefined,
      labels: sandboxLabels(this.deployment, request.agent.id, request.sessionId),
    };
  }

  /** Writes the transcript, runs the harness and streams its output; yields the answer. */
  private async *run(
    provider: SandboxProvider,
    request: TurnRequest<S>,
    sandbox: SandboxHandle & { fresh: boolean; restarted: boolean },
  ): AsyncGenerator<RuntimeEvent> {
    const { settings, signal } = request;
    const cwd = settings.workdir;
    const transcriptPath = cwd ? `${cwd.replace(/\/+$/, "")}/${TRANSCRIPT_FILE}` : TRANSCRIPT_FILE;
    await provider.writeFile(
      sandbox.sandboxId,
      transcriptPath,
      `${JSON.stringify(request.transcript, null, 2)}\n`,
      signal,
    );
    const plan = planHarness(settings, {
      input: sandbox.restarted
        ? primeWithTranscript(request.transcript, request.input)
        : request.input,
      sessionId: request.sessionId,
      continues: !sandbox.fresh && sandbox.turns > 0,
    });
    const envs = { ...plan.envs, ...(await this.secretEnv(request)) };
    const pending: RuntimeEvent[] = [];
    let wake: (() => void) | undefined;
    let settled = false;
    const execution = provider
      .exec(
        sandbox.sandboxId,
        {
          cmd: plan.cmd,
          cwd,
          envs,
          onStdout: (chunk) => {
            pending.push(...plan.reader.read(chunk));
            wake?.();
          },
        },
        signal,
      )
      .finally(() => {
        settled = true;
        wake?.();
      });
    execution.catch(() => {});
    for (;;) {
      while (pending.length > 0) yield pending.shift() as RuntimeEvent;
      if (settled) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (settled || pending.length > 0) resolve();
      });
      wake = undefined;
    }
    const exit = await execution;
    const outcome = plan.reader.finish(exit);
    for (const event of outcome.events) yield event;
    yield { type: "handle", handle: { ...handleOnly(sandbox), turns: sandbox.turns + 1 } };
    yield { type: "message", text: outcome.answer };
  }

  /**
   * The harness's environment from this turn: the run's model proxy access under the names
   * each harness reads, and the manifest's `env` references resolved now. Given to this
   * process only, never stored on the sandbox, in the handle or in events.
   */
  private async secretEnv(request: TurnRequest<S>): Promise<Record<string, string>> {
    const envs: Record<string, string> = {};
    for (const [name, reference] of Object.entries(request.settings.env ?? {})) {
      envs[name] = await request.secrets(reference);
    }
    const proxy = request.modelProxy;
    if (proxy) {
      const base = proxy.baseUrl.replace(/\/+$/, "");
      envs.ANTHROPIC_BASE_URL = base;
      envs.ANTHROPIC_API_KEY = proxy.apiKey;
      envs.OPENAI_BASE_URL = `${base}/v1`;
      envs.OPENAI_API_KEY = proxy.apiKey;
    }
    return envs;
  }

  private asRuntimeError(error: unknown): RuntimeError {
    if (isRuntimeError(error)) return error;
    if (error instanceof SandboxGoneError) {
      return new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        `${this.vendorName} lost the sandbox during the turn; it will be tried again in a new one.`,
        { retryable: true, cause: error },
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return new RuntimeError(
      RUNTIME_ERROR_CODES.unavailable,
      `${this.vendorName} failed during the turn: ${excerpt(message)}`,
      { retryable: true, cause: error },
    );
  }
}

function handleOnly(sandbox: SandboxHandle): SandboxHandle {
  const { vendor, sandboxId, cpu, memoryGib, turns } = sandbox;
  return { vendor, sandboxId, cpu, memoryGib, turns };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
