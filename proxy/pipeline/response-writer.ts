import type { ProxyError } from "../errors.js";
import type { TokenUsage } from "../spend/usage.js";

/**
 * What a body consumer may do with the client's response. Implemented by ModelCall, which
 * owns the ServerResponse, backpressure and accounting.
 */
export interface ResponseWriter {
  /** Sends the status and headers (the proxy's own headers are added). */
  commit(status: number, headers: Record<string, string | number>): void;
  /** Writes to the client; pauses the upstream while the client is slow. */
  write(chunk: string | Buffer): void;
  /**
   * Ends the response, then records the call's usage. Pass a UsageReader when usage takes
   * work to find (parsing a body): it is read only after the response has gone.
   */
  end(usage: TokenUsage | UsageReader | null, last?: string | Buffer): void;
  /** After commit: tells a streaming client the upstream broke off, then ends. */
  abortStream(error: ProxyError): void;
  /** Before commit: this attempt failed; the next deployment is tried, or the error sent. */
  retry(error: ProxyError): void;
}

/** Usage found only when asked, after the response has gone. */
export interface UsageReader {
  readUsage(): TokenUsage | null;
}
