import type { ServerResponse } from "node:http";
import { type ClientDialect, ProxyError } from "../errors.js";
import type { VirtualKey } from "../keys/virtual-keys.js";
import type { ClientCall, UpstreamPlan } from "../providers/upstream-plan.js";
import type { DeploymentState } from "../routing/deployment-state.js";
import type { TokenUsage } from "../spend/usage.js";
import { UsageChunkFilter } from "../translate/usage-chunk-filter.js";
import {
  type BodyConsumer,
  UpstreamAttempt,
  type UpstreamListener,
} from "../upstream/upstream-call.js";
import {
  PassthroughJson,
  PassthroughStream,
  TranslatedJson,
  TranslatedStream,
  UpstreamErrorBody,
} from "./body-consumers.js";
import type { CallContext } from "./call-context.js";
import { relayedError, sendError, streamErrorEvent } from "./client-errors.js";
import type { ResponseWriter, UsageReader } from "./response-writer.js";

const isRetryable = (status: number) => status === 408 || status === 429 || status >= 500;

const clientLeft = () => new Error("client closed the connection");

/**
 * One model call from admission to its last byte: tries deployments in the router's order
 * until one answers, streams that answer to the client with backpressure, and hands the
 * call to accounting once the response has ended. Nothing reaches the client before an
 * attempt succeeds, so retries and fallbacks are invisible to it.
 *
 * The call is its own listener for upstream events and its own response writer for the body
 * consumers: one object per call rather than a closure per callback.
 */
export class ModelCall implements ResponseWriter, UpstreamListener {
  private readonly attempts: Generator<DeploymentState, void, undefined>;
  private state: DeploymentState | undefined;
  private plan: UpstreamPlan | undefined;
  private attempt: UpstreamAttempt | undefined;
  private lastError: ProxyError | undefined;
  private committed = false;
  private clientGone = false;
  /** Time spent waiting for upstream response headers, across attempts. */
  private upstreamWaitMs = 0;
  private sentAt = 0;
  /** The provider and wait of the last attempt that got response headers, for the metrics. */
  upstreamProvider: string | undefined;
  upstreamWaitedMs = 0;
  /** Set when the call is over: its status and time, and what it used (read by accounting). */
  status = 0;
  endedAt = 0;
  usage: TokenUsage | UsageReader | null = null;
  /** The deployment that served the usage. */
  servedBy: DeploymentState | undefined;

  constructor(
    private readonly ctx: CallContext,
    private readonly res: ServerResponse,
    private readonly dialect: ClientDialect,
    readonly requestId: string,
    readonly receivedAt: number,
    private readonly call: ClientCall,
    readonly key: VirtualKey,
  ) {
    this.attempts = ctx.router.attempts(call.modelName);
    res.on("close", () => this.onClientClose());
  }

  start(): void {
    this.next();
  }

  private onClientClose(): void {
    if (this.res.writableFinished) return;
    // The client went away: stop the upstream too, mid-stream or before it answered.
    this.clientGone = true;
    this.attempt?.abort(clientLeft());
  }

  private next(): void {
    if (this.clientGone) {
      this.finish(499);
      return;
    }
    const step = this.attempts.next();
    const state = step.done ? undefined : step.value;
    this.state = state;
    if (!state) {
      this.fail(
        this.lastError ??
          new ProxyError(
            "rate_limited",
            `No deployment of model "${this.call.modelName}" is available right now.`,
          ),
      );
      return;
    }
    const variable = state.deployment.unsetApiKeyVariable;
    if (variable) {
      // Nothing goes upstream without the key; another deployment of the model may have one.
      this.lastError = new ProxyError(
        "upstream_error",
        `The proxy has no API key for model "${this.call.modelName}": its configuration reads it from the environment variable ${variable}, which is not set where the proxy runs. Nothing was sent to the provider.`,
      );
      this.next();
      return;
    }
    let plan: UpstreamPlan | Promise<UpstreamPlan>;
    try {
      plan = this.ctx.planFor(state.deployment.provider)(this.call, state.deployment);
    } catch (error) {
      this.fail(error as ProxyError);
      return;
    }
    if (plan instanceof Promise)
      plan.then(
        (p) => this.send(p),
        (error) => this.fail(error),
      );
    else this.send(plan);
  }

  private send(plan: UpstreamPlan): void {
    const state = this.state as DeploymentState;
    const deployment = state.deployment;
    state.inFlight += 1;
    state.requests.add(1);
    this.plan = plan;
    this.sentAt = performance.now();
    const attempt = new UpstreamAttempt(this);
    this.attempt = attempt;
    if (this.clientGone) attempt.abort(clientLeft());
    attempt.send(
      this.ctx.pools.for(plan.request.origin),
      plan.request,
      deployment.timeoutMs,
      this.call.stream ? deployment.streamTimeoutMs : deployment.timeoutMs,
    );
  }

  upstreamFailed(error: ProxyError): void {
    const state = this.state as DeploymentState;
    state.inFlight -= 1;
    this.upstreamWaitMs += performance.now() - this.sentAt;
    // An abort we caused (the client left) says nothing about the deployment.
    if (!this.clientGone) this.ctx.router.recordFailure(state);
    this.retryAttempt(error);
  }

  upstreamResponded(status: number, contentType: string | undefined): BodyConsumer {
    const plan = this.plan as UpstreamPlan;
    const state = this.state as DeploymentState;
    const waited = performance.now() - this.sentAt;
    this.upstreamWaitMs += waited;
    this.upstreamProvider = state.deployment.provider;
    this.upstreamWaitedMs = waited;
    if (status < 200 || status >= 300) {
      state.inFlight -= 1;
      if (isRetryable(status)) this.ctx.router.recordFailure(state);
      return new UpstreamErrorBody(
        (body) => {
          const error = relayedError(status, body, plan.upstreamDialect, this.dialect);
          if (isRetryable(status)) this.retryAttempt(error);
          else this.fail(error);
        },
        (error) => this.retryAttempt(error),
      );
    }
    state.recordSuccess(waited);
    if (this.call.stream) {
      if (plan.streamTranslator) {
        return new TranslatedStream(this, plan.streamTranslator(), status, plan.streamFramer?.());
      }
      if (plan.dropUsageChunk) return new TranslatedStream(this, new UsageChunkFilter(), status);
      return new PassthroughStream(this, plan, status);
    }
    if (plan.translateJson) return new TranslatedJson(this, plan, status);
    return new PassthroughJson(this, plan, status, contentType ?? "application/json");
  }

  commit(status: number, headers: Record<string, string | number>): void {
    this.committed = true;
    const overheadMs = performance.now() - this.receivedAt - this.upstreamWaitMs;
    headers["x-request-id"] = this.requestId;
    headers["x-switchboard-overhead-ms"] = overheadMs.toFixed(3);
    this.res.writeHead(status, headers);
  }

  write(chunk: string | Buffer): void {
    if (this.res.write(chunk) || this.clientGone) return;
    const attempt = this.attempt;
    if (!attempt || attempt.paused) return;
    attempt.pause();
    this.res.once("drain", () => attempt.resume());
  }

  end(usage: TokenUsage | UsageReader | null, last?: string | Buffer): void {
    const state = this.state as DeploymentState;
    state.inFlight -= 1;
    if (last) this.res.end(last);
    else this.res.end();
    this.usage = usage;
    this.servedBy = state;
    this.finish(this.res.statusCode);
  }

  abortStream(error: ProxyError): void {
    const state = this.state as DeploymentState;
    state.inFlight -= 1;
    if (this.clientGone) {
      this.finish(499);
      return;
    }
    this.ctx.router.recordFailure(state);
    this.ctx.logger.warn(
      { requestId: this.requestId, err: error.cause ?? error },
      "upstream broke off mid-response",
    );
    // Only streams commit before their end; the SDKs raise an error event as an APIError.
    this.res.end(streamErrorEvent(error, this.dialect));
    this.finish(502);
  }

  /** A consumer found a 2xx answer unusable before anything was sent. */
  retry(error: ProxyError): void {
    if (this.committed) {
      this.abortStream(error);
      return;
    }
    const state = this.state as DeploymentState;
    state.inFlight -= 1;
    if (!this.clientGone) this.ctx.router.recordFailure(state);
    this.retryAttempt(error);
  }

  private retryAttempt(error: ProxyError): void {
    this.lastError = error;
    this.next();
  }

  private fail(error: ProxyError): void {
    if (this.clientGone) return;
    sendError(this.res, error, this.dialect, this.requestId, this.ctx.logger);
    this.finish(error.status);
  }

  private finish(status: number): void {
    this.status = status;
    this.endedAt = performance.now();
    this.ctx.finished(this);
  }

  get modelName(): string {
    return this.call.modelName;
  }

  get endpoint(): string {
    return this.call.endpoint;
  }
}
