import { Worker } from "node:worker_threads";
import type { Logger } from "./logger.js";

type StopStep = { name: string; stop: () => Promise<void> };

/** Exit status when the time limit ran out before every part stopped. */
export const EXIT_TIMED_OUT = 1;
/** Exit status on a second signal (as a shell reports an interrupted command). */
export const EXIT_SECOND_SIGNAL = 130;

/**
 * Runs in a thread of its own from the first signal: when the time limit has passed and the
 * process is still there, its main thread is stuck (a synchronous loop, a blocking write) and
 * can run no timer or signal handler, so this thread ends the process the only way left.
 */
const WATCHDOG = `
const { workerData } = require("node:worker_threads");
setTimeout(() => process.kill(workerData.pid, "SIGKILL"), workerData.afterMs);
`;

export interface SignalOptions {
  exit?: (code: number) => void;
  /** Start the watchdog thread (off in unit tests, which stub `exit`). */
  watchdog?: boolean;
}

/**
 * Orderly shutdown. Parts register how to stop as they start; on SIGTERM or SIGINT they
 * stop in reverse order (stop taking work first, close pools last), each given its share of
 * the time limit. A second signal exits at once: a person pressing Ctrl-C twice means it.
 *
 * The time limit holds whatever state the process is in: at the limit a timer exits with
 * status 1, and should the main thread be too stuck to run it, a watchdog thread kills the
 * process. The steps get the limit less a margin, so the timer is the exception.
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

  handleSignals(options: SignalOptions = {}): void {
    const exit = options.exit ?? ((code: number) => process.exit(code));
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping) {
        this.logger.warn({ signal }, "second signal: exiting now");
        exit(EXIT_SECOND_SIGNAL);
        return;
      }
      this.logger.info(
        { signal, timeout_ms: this.timeoutMs },
        "stopping: finishing work in flight (send the signal again to exit now)",
      );
      this.armTimeLimit(exit, options.watchdog ?? true);
      void this.stop().then(() => exit(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  stop(): Promise<void> {
    this.stopping ??= this.runSteps();
    return this.stopping;
  }

  private armTimeLimit(exit: (code: number) => void, watchdog: boolean): void {
    setTimeout(() => {
      this.logger.error(
        { timeout_ms: this.timeoutMs },
        `did not stop within SHUTDOWN_TIMEOUT_MS (${this.timeoutMs} ms): exiting now`,
      );
      exit(EXIT_TIMED_OUT);
    }, this.timeoutMs);
    if (!watchdog) return;
    // A little after the timer: the timer exits with a status and a log line, if it can.
    const thread = new Worker(WATCHDOG, {
      eval: true,
      // None of the process's loader flags (tsx, --input-type): the watchdog is plain CommonJS.
      execArgv: [],
      workerData: { pid: process.pid, afterMs: this.timeoutMs + 500 },
    });
    thread.unref();
  }

  /** The steps' share of the limit: all of it less a margin for the exit itself. */
  private get stepsBudgetMs(): number {
    return this.timeoutMs - Math.min(500, Math.floor(this.timeoutMs / 5));
  }

  private async runSteps(): Promise<void> {
    const deadline = Date.now() + this.stepsBudgetMs;
    for (const step of [...this.steps].reverse()) {
      const left = Math.max(deadline - Date.now(), 10);
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
