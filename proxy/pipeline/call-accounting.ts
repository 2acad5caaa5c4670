import type { Logger } from "pino";
import type { AgentTracer } from "../../governance/index.js";
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
    private readonly deps: {
      metrics: ProxyMetrics;
      logger: Logger;
      recorder: SpendRecorder;
      /** Set when traces are exported: each call is a span, a child of its run's. */
      tracer?: AgentTracer | undefined;
    },
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
    const usage = call.usage && (isReader(call.usage) ? call.usage.readUsage() : call.usage);
    const costUsd = usage && state ? recorder.record(call, state, usage) : undefined;
    this.deps.tracer?.modelCallEnded({
      requestId: call.requestId,
      runId: call.key.runId,
      agentId: call.key.agentId,
      endpoint: call.endpoint,
      provider: call.upstreamProvider,
      requestModel: call.modelName,
      responseModel: state?.deployment.upstreamModel,
      serverAddress: state ? new URL(state.deployment.origin).hostname : undefined,
      // Times on the performance clock, placed on the wall clock for the collector.
      startMs: performance.timeOrigin + call.receivedAt,
      endMs: performance.timeOrigin + call.endedAt,
      status: call.status,
      inputTokens: usage?.inputTokens,
      outputTokens: usage?.outputTokens,
      costUsd,
    });
  }
}
