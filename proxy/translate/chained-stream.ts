import type { SseEvent } from "./sse.js";
import { SseParser } from "./sse.js";
import type { StreamTranslator } from "./stream-translator.js";

/**
 * Two translations in a row, through OpenAI chat as the pivot (Bedrock -> OpenAI ->
 * Anthropic). Usage is the first one's: it saw the provider's own counts.
 */
export class ChainedStream implements StreamTranslator {
  private readonly parser = new SseParser();

  constructor(
    private readonly first: StreamTranslator,
    private readonly second: StreamTranslator,
  ) {}

  get usage() {
    return this.first.usage;
  }

  private pass(text: string): string {
    if (!text) return "";
    let out = "";
    for (const event of this.parser.push(Buffer.from(text))) out += this.second.push(event);
    return out;
  }

  push(event: SseEvent): string {
    return this.pass(this.first.push(event));
  }

  end(): string {
    return this.pass(this.first.end()) + this.second.end();
  }
}
