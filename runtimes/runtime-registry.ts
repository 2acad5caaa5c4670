import type { AgentRuntime } from "./runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "./runtime-error.js";

/** An adapter of any settings type: the registry validates settings before they reach it. */
// biome-ignore lint/suspicious/noExplicitAny: each adapter has its own settings type.
export type AnyAgentRuntime = AgentRuntime<any>;

/** A setting that is wrong, with where it is: shown to the agent's owner. */
export interface SettingsProblem {
  path: string;
  message: string;
}

/**
 * The adapters this process can drive, by `spec.runtime.type`. Settings are validated by
 * the adapter's own schema, when a manifest is applied and again before each turn (a
 * manifest stored before an adapter changed must not reach it unchecked).
 */
export class RuntimeRegistry {
  private readonly runtimes = new Map<string, AgentRuntime>();

  constructor(runtimes: readonly AnyAgentRuntime[] = []) {
    for (const runtime of runtimes) this.register(runtime);
  }

  register(runtime: AnyAgentRuntime): void {
    if (this.runtimes.has(runtime.type)) {
      throw new Error(`A runtime adapter for "${runtime.type}" is already registered.`);
    }
    this.runtimes.set(runtime.type, runtime);
  }

  types(): string[] {
    return [...this.runtimes.keys()].sort();
  }

  has(type: string): boolean {
    return this.runtimes.has(type);
  }

  /** The adapter for `type`; a non-retryable RuntimeError naming the known types when none. */
  get(type: string): AgentRuntime {
    const runtime = this.runtimes.get(type);
    if (runtime) return runtime;
    throw new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `No runtime adapter for "${type}" in this Switchboard; it knows ${this.types().join(", ")}.`,
    );
  }

  /** Problems with an agent's `spec.runtime` settings; empty when they are good. */
  check(settings: { type: string } & Record<string, unknown>): SettingsProblem[] {
    const runtime = this.runtimes.get(settings.type);
    if (!runtime) {
      return [
        {
          path: "spec.runtime.type",
          message: `is "${settings.type}", which no adapter runs; known: ${this.types().join(", ")}`,
        },
      ];
    }
    const parsed = runtime.settings.safeParse(settings);
    if (parsed.success) return [];
    return parsed.error.issues.map((issue) => ({
      path: ["spec.runtime", ...issue.path].join("."),
      message: issue.message,
    }));
  }

  /** The settings parsed by their adapter, or a non-retryable RuntimeError listing the problems. */
  parse(settings: { type: string } & Record<string, unknown>): unknown {
    const runtime = this.get(settings.type);
    const parsed = runtime.settings.safeParse(settings);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues
      .map((issue) => `${["spec.runtime", ...issue.path].join(".")} ${issue.message}`)
      .join("; ");
    throw new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `This agent's runtime settings are not valid: ${problems}`,
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.runtimes.values()].map((runtime) => runtime.close?.()));
  }
}
