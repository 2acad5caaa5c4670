import { emptyUsage, mergeUsage, openaiUsage } from "../spend/usage.js";
import { type SseEvent, sseText } from "./sse.js";
import type { StreamTranslator } from "./stream-translator.js";

/**
 * An OpenAI chat stream passed through unchanged except for the usage-only chunk the proxy
 * asked for (`stream_options.include_usage`) and the client did not: counted, then dropped,
 * so the client sees exactly the stream it requested.
 */
export class UsageChunkFilter implements StreamTranslator {
  readonly usage = emptyUsage();

  push(event: SseEvent): string {
    if (event.data.includes('"usage":{') || /"usage":\s+\{/.test(event.data)) {
      try {
        const chunk = JSON.parse(event.data);
        mergeUsage(this.usage, openaiUsage(chunk.usage));
        if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return "";
        delete chunk.usage;
        return sseText(chunk, event.event || undefined);
      } catch {
        // Not JSON: forward it as it came.
      }
    }
    return sseText(event.data, event.event || undefined);
  }

  end(): string {
    return "";
  }
}
