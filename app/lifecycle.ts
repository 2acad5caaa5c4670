import type { Logger } from "./logger.js";

type StopStep = { name: string; stop: () => Promise<void> };

/**
 * Orderly shutdown. Parts register how to stop as they start; on SIGTERM or SIGINT they
 * stop in reverse order (stop taking work first, close pools last), each given its share of
 * the time limit. A second signal exits at once: a person pressing Ctrl-C twice means it.
 */
export class Lifecycle {
  private readonly steps: StopStep[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Registers a step; steps run last-registered first. */
  onStop(name: string, stop: () => Promise<void>): void {
    this.steps.push({ name, stop });
  }

  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping) {
        this.logger.warn({ signal }, "second signal: exiting now");
        exit(130);
        return;
      }
      this.logger.info(
        { signal },
        "stopping: finishing work in flight (send the signal again to exit now)",
      );
      void this.stop().then(() => exit(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  stop(): Promise<void> {
    this.stopping ??= this.runSteps();
    return this.stopping;
  }

  private async runSteps(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (const step of [...this.steps].reverse()) {
      const left = Math.max(deadline - Date.now(), 100);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), left);
      });
      try {
        const outcome = await Promise.race([step.stop().then(() => "done" as const), timedOut]);
        if (outcome === "timeout")
          this.logger.warn({ step: step.name }, "gave up waiting for a step to stop");
      } catch (error) {
        this.logger.error({ err: error, step: step.name }, "a step failed to stop cleanly");
      } finally {
        clearTimeout(timer);
      }
    }
    this.logger.info("stopped");
  }
}
