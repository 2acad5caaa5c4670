import type { Knex } from "knex";
import {
  type RuntimeRegistry,
  type SandboxProvider,
  SandboxRuntime,
  sweepSandboxes,
} from "../runtimes/index.js";
import {
  type AgentSecrets,
  type AgentSource,
  BackgroundLease,
  sessionSandboxStates,
} from "../sessions/index.js";
import type { Logger } from "./logger.js";

export interface SandboxSweeperOptions {
  knex: Knex;
  runtimes: RuntimeRegistry;
  agents: AgentSource;
  secrets: AgentSecrets;
  logger: Logger;
  /** This process's name in the lease. */
  owner: string;
  deployment: string;
  intervalMs: number;
  idleMs: number;
}

/**
 * Keeps sandboxes from leaking: at start-up and every `intervalMs`, the one process holding
 * the `sandbox-sweeper` lease lists, for each vendor account of the agents on sandbox
 * runtimes (credentials deduplicated), the sandboxes carrying this deployment's label, and
 * destroys those whose session is closed, idle past `idleMs` or unknown (see
 * runtimes/sandbox/sweeper.ts). Vendor-neutral: any registered SandboxRuntime takes part.
 */
export class SandboxSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly lease: BackgroundLease;

  constructor(private readonly options: SandboxSweeperOptions) {
    this.lease = new BackgroundLease(options.knex, "sandbox-sweeper", options.intervalMs * 2);
  }

  /** Sweeps now and then on the timer; a no-op without any sandbox runtime registered. */
  start(): void {
    if (this.sandboxRuntimes().length === 0) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.lease.release(this.options.owner).catch(() => {});
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.sweepIfLeader()
      .catch((error) => {
        this.options.logger.warn({ err: error }, "sandbox sweep failed; trying again later");
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  private sandboxRuntimes(): SandboxRuntime<never>[] {
    const { runtimes } = this.options;
    return runtimes
      .types()
      .map((type) => runtimes.get(type))
      .filter((runtime): runtime is SandboxRuntime<never> => runtime instanceof SandboxRuntime);
  }

  /** One sweep, when this process holds the lease. */
  async sweepIfLeader(): Promise<void> {
    if (!(await this.lease.hold(this.options.owner))) return;
    const accounts = await this.accounts();
    try {
      const result = await sweepSandboxes({
        deployment: this.options.deployment,
        accounts,
        sessions: (ids) => sessionSandboxStates(this.options.knex, ids),
        idleMs: this.options.idleMs,
      });
      for (const swept of result.destroyed) {
        this.options.logger.info(
          {
            vendor: swept.vendor,
            sandbox: swept.sandboxId,
            session: swept.sessionId,
            reason: swept.reason,
          },
          "destroyed sandbox",
        );
      }
      for (const problem of result.failed) {
        this.options.logger.warn({ problem }, "sandbox sweep could not finish everything");
      }
    } finally {
      await Promise.allSettled(accounts.map((provider) => provider.close?.()));
    }
  }

  /** A provider per vendor account among the agents on sandbox runtimes. */
  private async accounts(): Promise<SandboxProvider[]> {
    const { agents, runtimes, secrets, logger } = this.options;
    const sandboxRuntimes = new Map(this.sandboxRuntimes().map((r) => [r.type, r]));
    const found = (await agents.byRuntimeTypes?.([...sandboxRuntimes.keys()])) ?? [];
    const providers = new Map<string, SandboxProvider>();
    for (const agent of found) {
      const runtime = sandboxRuntimes.get(agent.runtime.type);
      if (!runtime) continue;
      try {
        const settings = runtimes.parse(agent.runtime) as never;
        const provider = await runtime.openProvider(settings, secrets(agent));
        const account = provider.account ?? `${runtime.type} agent ${agent.id}`;
        if (providers.has(account)) {
          await provider.close?.();
          continue;
        }
        providers.set(account, provider);
      } catch (error) {
        logger.warn(
          { agent: agent.name, err: error },
          "sandbox sweep skips an agent whose vendor account it cannot open",
        );
      }
    }
    return [...providers.values()];
  }
}
