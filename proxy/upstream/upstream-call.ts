import type { Dispatcher } from "undici";
import { ProxyError } from "../errors.js";
import type { UpstreamRequest } from "../providers/upstream-plan.js";

/** Receives an upstream body once its status and headers have been seen. */
export interface BodyConsumer {
  onData(chunk: Buffer): void;
  onEnd(): void;
  /** The body broke off (reset, body timeout); the status and headers had arrived. */
  onError(error: ProxyError): void;
}

/** What a model call hears from one attempt. */
export interface UpstreamListener {
  /**
   * The status and headers arrived: decides, synchronously, who consumes the body (undici
   * may deliver it in the same tick). `contentType` is the one header the proxy reads.
   */
  upstreamResponded(
    status: number,
    contentType: string | undefined,
    attempt: UpstreamAttempt,
  ): BodyConsumer;
  /** No response at all: refused, reset, timed out, or not HTTP. */
  upstreamFailed(error: ProxyError): void;
}

/** undici's error codes as the proxy's; an upstream that is slow, gone or garbled. */
export function upstreamFailure(error: Error): ProxyError {
  const code = (error as { code?: string }).code ?? "";
  if (
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT"
  ) {
    return new ProxyError("upstream_timeout", "The model provider did not answer in time.", {
      cause: error,
    });
  }
  if (error.name === "HTTPParserError" || code.startsWith("HPE_")) {
    return new ProxyError(
      "upstream_invalid_response",
      "The model provider sent an invalid response.",
      {
        cause: error,
      },
    );
  }
  return new ProxyError("upstream_unreachable", "The model provider could not be reached.", {
    cause: error,
  });
}

const CONTENT_TYPE = "content-type";

/** The content-type among undici's raw headers (name, value, name, value… as bytes). */
function contentTypeOf(rawHeaders: Buffer[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as Buffer;
    if (
      name.length === CONTENT_TYPE.length &&
      name.toString("latin1").toLowerCase() === CONTENT_TYPE
    )
      return rawHeaders[i + 1]?.toString("latin1");
  }
  return undefined;
}

/**
 * One request to one deployment, through undici's `dispatch` with undici's core handler
 * interface (onConnect, onHeaders, onData, onComplete, onError): the one its own `request`
 * and `stream` are built on. The newer controller-style interface costs, per request, an
 * adapter undici wraps around it and every response header parsed into strings; the proxy
 * reads one header. Body chunks go straight to the consumer; the attempt itself is the
 * model call's handle for backpressure (`pause`/`resume`) and `abort`.
 */
export class UpstreamAttempt implements Dispatcher.DispatchHandler {
  /** While set, undici stops reading the body (at the next chunk) until `resume`. */
  paused = false;
  private consumer: BodyConsumer | undefined;
  private settled = false;
  private abortRequest: ((reason?: Error) => void) | undefined;
  private abortReason: Error | undefined;
  private resumeBody: (() => void) | undefined;

  constructor(private readonly listener: UpstreamListener) {}

  /** Sends the request; everything after is reported to the listener. */
  send(
    dispatcher: Dispatcher,
    request: UpstreamRequest,
    headersTimeout: number,
    bodyTimeout: number,
  ): void {
    dispatcher.dispatch(
      {
        origin: request.origin,
        path: request.path,
        method: request.method,
        headers: request.headers,
        body: request.body,
        headersTimeout,
        bodyTimeout,
      },
      this,
    );
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeBody?.();
  }

  /** Stops the request, whether it is waiting for a connection, sent, or streaming. */
  abort(reason: Error): void {
    if (this.abortRequest) this.abortRequest(reason);
    else this.abortReason = reason;
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.abortReason) abort(this.abortReason);
    else this.abortRequest = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx informational heads are not the response.
    if (statusCode < 200) return true;
    this.resumeBody = resume;
    this.consumer = this.listener.upstreamResponded(statusCode, contentTypeOf(rawHeaders), this);
    return !this.paused;
  }

  onData(chunk: Buffer): boolean {
    this.consumer?.onData(chunk);
    return !this.paused;
  }

  onComplete(): void {
    this.settled = true;
    this.consumer?.onEnd();
  }

  onError(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    const failure = upstreamFailure(error);
    if (this.consumer) this.consumer.onError(failure);
    else this.listener.upstreamFailed(failure);
  }
}
