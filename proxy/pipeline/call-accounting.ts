import type { Logger } from "pino";
import type { ProxyMetrics } from "../metrics.js";
import type { SpendRecorder } from "../spend/spend-recorder.js";
import type { TokenUsage } from "../spend/usage.js";
import type { ModelCall } from "./model-call.js";
import type { UsageReader } from "./response-writer.js";

const isReader = (usage: TokenUsage | UsageReader): usage is UsageReader =>
  typeof (usage as UsageReader).readUsage === "function";

/**
 * What happens once a call is over: metrics, the debug line, and its spend. Calls are
 * queued and accounted together after the event loop's current I/O callbacks (a
 * `setImmediate`): by then the response has been written, and requests that arrived in
 * the same turn have already been sent upstream, so none of them waits on this work; a
 * burst of answers is accounted in one pass.
 */
export class CallAccounting {
  private queue: ModelCall[] = [];
  private scheduled = false;
  private readonly drainQueue = () => this.drain();

  constructor(
    private readonly deps: { metrics: ProxyMetrics; logger: Logger; recorder: SpendRecorder },
  ) {}

  add(call: ModelCall): void {
    this.queue.push(call);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.drainQueue);
  }

  /** Accounts every queued call now (also before shutdown flushes the ledger). */
  drain(): void {
    this.scheduled = false;
    const calls = this.queue;
    this.queue = [];
    for (const call of calls) {
      try {
        this.account(call);
      } catch (error) {
        // Accounting never takes the proxy down, nor the other calls' accounting with it.
        this.deps.logger.error(
          { err: error, requestId: call.requestId },
          "accounting a call failed",
        );
      }
    }
  }

  private account(call: ModelCall): void {
    const { metrics, logger, recorder } = this.deps;
    const seconds = (call.endedAt - call.receivedAt) / 1000;
    metrics.callAnswered(call.endpoint, call.modelName, call.status, seconds);
    if (call.upstreamProvider) {
      metrics.upstreamAnswered(call.upstreamProvider, call.upstreamWaitedMs / 1000);
    }
    // Never the prompt or the answer: who, what, how it went.
    if (logger.isLevelEnabled("debug")) {
      logger.debug(
        {
          requestId: call.requestId,
          endpoint: call.endpoint,
          model: call.modelName,
          status: call.status,
          ms: seconds * 1000,
          key: call.key.id,
        },
        "model call",
      );
    }
    const state = call.servedBy;
    if (!call.usage || !state) return;
    const usage = isReader(call.usage) ? call.usage.readUsage() : call.usage;
    if (usage) recorder.record(call, state, usage);
  }
}
