import type { IncomingHttpHeaders } from "node:http";
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

export interface UpstreamCallbacks {
  /** Decides, synchronously, who consumes the body: undici may deliver it in the same tick. */
  onResponse(
    status: number,
    headers: IncomingHttpHeaders,
    controller: Dispatcher.DispatchController,
  ): BodyConsumer;
  /** No response at all: refused, reset, timed out, or not HTTP. */
  onFailure(error: ProxyError): void;
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

/**
 * One request to one deployment through undici's `dispatch`, its lowest-level API: no
 * stream objects, body chunks handed straight to the consumer, pause/resume for
 * backpressure and `abort` through the controller.
 */
export function callUpstream(
  dispatcher: Dispatcher,
  request: UpstreamRequest,
  timeouts: { headersTimeout: number; bodyTimeout: number },
  callbacks: UpstreamCallbacks,
  onController: (controller: Dispatcher.DispatchController) => void,
): void {
  let consumer: BodyConsumer | undefined;
  let settled = false;
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(controller) {
      onController(controller);
    },
    onResponseStart(controller, statusCode, headers) {
      // 1xx informational heads are not the response.
      if (statusCode < 200) return;
      consumer = callbacks.onResponse(statusCode, headers, controller);
    },
    onResponseData(_controller, chunk) {
      consumer?.onData(chunk);
    },
    onResponseEnd() {
      settled = true;
      consumer?.onEnd();
    },
    onResponseError(_controller, error) {
      if (settled) return;
      settled = true;
      const failure = upstreamFailure(error);
      if (consumer) consumer.onError(failure);
      else callbacks.onFailure(failure);
    },
  };
  dispatcher.dispatch(
    {
      origin: request.origin,
      path: request.path,
      method: request.method,
      headers: request.headers,
      body: request.body,
      headersTimeout: timeouts.headersTimeout,
      bodyTimeout: timeouts.bodyTimeout,
    },
    handler,
  );
}
