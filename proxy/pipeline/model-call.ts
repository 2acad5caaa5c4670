import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import { type ClientDialect, ProxyError } from "../errors.js";
import type { VirtualKey } from "../keys/virtual-keys.js";
import type { ClientCall, UpstreamPlan } from "../providers/upstream-plan.js";
import type { DeploymentState } from "../routing/deployment-state.js";
import type { TokenUsage } from "../spend/usage.js";
import { UsageChunkFilter } from "../translate/usage-chunk-filter.js";
import { type BodyConsumer, callUpstream } from "../upstream/upstream-call.js";
import {
  PassthroughJson,
  PassthroughStream,
  TranslatedJson,
  TranslatedStream,
  UpstreamErrorBody,
} from "./body-consumers.js";
import type { CallContext } from "./call-context.js";
import { relayedError, sendError, streamErrorEvent } from "./client-errors.js";
import type { ResponseWriter } from "./response-writer.js";

const isRetryable = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * One model call from admission to its last byte: tries deployments in the router's order
 * until one answers, streams that answer to the client with backpressure, and records its
 * usage once the response has ended. Nothing reaches the client before an attempt succeeds,
 * so retries and fallbacks are invisible to it.
 */
export class ModelCall implements ResponseWriter {
  private readonly attempts: Generator<DeploymentState, void, undefined>;
  private state: DeploymentState | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private lastError: ProxyError | undefined;
  private committed = false;
  private clientGone = false;
  /** Time spent waiting for upstream response headers, across attempts. */
  private upstreamWaitMs = 0;
  private sentAt = 0;
  /** Time to response headers of the last attempt that got any; observed after the response. */
  lastUpstream: { provider: string; waitedMs: number } | undefined;

  constructor(
    private readonly ctx: CallContext,
    private readonly res: ServerResponse,
    private readonly dialect: ClientDialect,
    readonly requestId: string,
    readonly receivedAt: number,
    private readonly call: ClientCall,
    readonly key: VirtualKey,
  ) {
    this.attempts = ctx.router.attempts(call.body.model);
    res.on("close", () => {
      if (res.writableFinished) return;
      // The client went away: stop the upstream too, mid-stream or before it answered.
      this.clientGone = true;
      this.controller?.abort(new Error("client closed the connection"));
    });
  }

  start(): void {
    this.next();
  }

  private next(): void {
    if (this.clientGone) {
      this.ctx.finished(this, 499, null);
      return;
    }
    const step = this.attempts.next();
    if (step.done) {
      this.state = undefined;
      this.fail(
        this.lastError ??
          new ProxyError(
            "rate_limited",
            `No deployment of model "${this.call.body.model}" is available right now.`,
          ),
      );
      return;
    }
    this.state = step.value;
    let plan: UpstreamPlan | Promise<UpstreamPlan>;
    try {
      plan = this.ctx.planFor(this.state.deployment.provider)(this.call, this.state.deployment);
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
    this.sentAt = performance.now();
    callUpstream(
      this.ctx.pools.for(plan.request.origin),
      plan.request,
      {
        headersTimeout: deployment.timeoutMs,
        bodyTimeout: this.call.stream ? deployment.streamTimeoutMs : deployment.timeoutMs,
      },
      {
        onResponse: (status, headers, controller) =>
          this.onResponse(plan, state, status, headers, controller),
        onFailure: (error) => {
          state.inFlight -= 1;
          this.upstreamWaitMs += performance.now() - this.sentAt;
          // An abort we caused (the client left) says nothing about the deployment.
          if (!this.clientGone) this.ctx.router.recordFailure(state);
          this.retryAttempt(error);
        },
      },
      (controller) => {
        this.controller = controller;
        if (this.clientGone) controller.abort(new Error("client closed the connection"));
      },
    );
  }

  private onResponse(
    plan: UpstreamPlan,
    state: DeploymentState,
    status: number,
    headers: IncomingHttpHeaders,
    controller: Dispatcher.DispatchController,
  ): BodyConsumer {
    const waited = performance.now() - this.sentAt;
    this.upstreamWaitMs += waited;
    this.controller = controller;
    this.lastUpstream = { provider: state.deployment.provider, waitedMs: waited };
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
    return new PassthroughJson(this, plan, status, headers);
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
    const controller = this.controller;
    if (!controller || controller.paused) return;
    controller.pause();
    this.res.once("drain", () => controller.resume());
  }

  end(usage: TokenUsage | null | (() => TokenUsage | null), last?: string | Buffer): void {
    const state = this.state as DeploymentState;
    state.inFlight -= 1;
    if (last) this.res.end(last);
    else this.res.end();
    const counted = typeof usage === "function" ? usage() : usage;
    this.ctx.finished(this, this.res.statusCode, counted && { usage: counted, state });
  }

  abortStream(error: ProxyError): void {
    const state = this.state as DeploymentState;
    state.inFlight -= 1;
    if (this.clientGone) {
      this.ctx.finished(this, 499, null);
      return;
    }
    this.ctx.router.recordFailure(state);
    this.ctx.logger.warn(
      { requestId: this.requestId, err: error.cause ?? error },
      "upstream broke off mid-response",
    );
    // Only streams commit before their end; the SDKs raise an error event as an APIError.
    this.res.end(streamErrorEvent(error, this.dialect));
    this.ctx.finished(this, 502, null);
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
    this.ctx.finished(this, error.status, null);
  }

  get modelName(): string {
    return this.call.body.model;
  }

  get endpoint(): string {
    return this.call.endpoint;
  }
}
