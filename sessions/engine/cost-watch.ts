import type { BudgetAdmission, Ledger } from "../../governance/index.js";
import type { RuntimeUsage } from "../../runtimes/index.js";
import type { Run } from "../records.js";
import type { RunnableAgent } from "./agent-source.js";

/**
 * Holds a run to its agent's max_cost_usd_per_run and to the budgets that apply while it
 * runs: what the runtime reported so far (not yet in the ledger: it is booked at the run's
 * close) plus what the run's proxy calls booked. Checked on every usage report, and every
 * `intervalMs` for proxy spend the agent makes between reports. `stop` is called once, with
 * the words the person sees; the engine stops the turn as on cancel.
 */
export class CostWatch {
  private reportedUsd = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly run: Run,
    private readonly agent: RunnableAgent,
    private readonly parts: {
      ledger: Ledger;
      budgets: BudgetAdmission;
      intervalMs: number;
      /** What earlier attempts of this run reported (they count too). */
      reportedBeforeUsd: number;
      stop: (message: string) => void;
    },
  ) {
    this.reportedUsd = parts.reportedBeforeUsd;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.parts.intervalMs);
    this.timer.unref();
  }

  /** A usage report from the runtime: counted, then checked at once. */
  async reported(usage: RuntimeUsage): Promise<void> {
    this.reportedUsd += usage.costUsd ?? 0;
    await this.check();
  }

  end(): void {
    clearInterval(this.timer);
  }

  private check(): Promise<void> {
    // One check at a time; a report during a check is seen by the next.
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (this.stopped) return;
    const proxyUsd = await this.parts.ledger.runCost(this.run.id, { source: "proxy" });
    const bookedUsd = this.reportedUsd + proxyUsd;
    const limit = this.agent.maxCostUsdPerRun;
    if (limit !== undefined && bookedUsd > limit + 1e-9) {
      return this.stop(
        `The run was stopped: it cost $${bookedUsd.toFixed(4)}, past the $${limit.toFixed(2)} "${this.agent.name}" may spend on one run (max_cost_usd_per_run).`,
      );
    }
    const overrun = await this.parts.budgets.overrunWhileRunning(
      {
        runId: this.run.id,
        userId: this.run.userId,
        agentName: this.agent.name,
        agentOwner: this.agent.owner,
      },
      this.reportedUsd,
    );
    if (overrun) this.stop(overrun);
  }

  private stop(message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.end();
    this.parts.stop(message);
  }
}
