import type { TokenUsage } from "../spend/usage.js";
import type { SseEvent } from "./sse.js";

/**
 * Turns one upstream event stream into the client's dialect, event by event, counting the
 * usage it sees on the way. Stateful: one per response.
 */
export interface StreamTranslator {
  /** One upstream event; returns the SSE text to send the client ("" for none). */
  push(event: SseEvent): string;
  /** The upstream stream ended; returns the closing events. */
  end(): string;
  readonly usage: TokenUsage;
}
