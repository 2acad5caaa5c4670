import { ProxyError } from "../errors.js";
import type { EventFramer, UpstreamPlan } from "../providers/upstream-plan.js";
import { emptyUsage, mergeUsage, type TokenUsage } from "../spend/usage.js";
import { scanUsage } from "../spend/usage-scan.js";
import type { Json } from "../translate/json.js";
import { SseParser } from "../translate/sse.js";
import type { StreamTranslator } from "../translate/stream-translator.js";
import type { BodyConsumer } from "../upstream/upstream-call.js";
import type { ResponseWriter, UsageReader } from "./response-writer.js";

/**
 * The ways an upstream body reaches the client. Pass-through consumers forward each chunk
 * as it arrives and read usage on the side; translating ones parse and rewrite.
 */

function parseJson(buffers: Buffer[]): Json | undefined {
  try {
    return JSON.parse(Buffer.concat(buffers).toString("utf8"));
  } catch {
    return undefined;
  }
}

const invalidBody = () =>
  new ProxyError(
    "upstream_invalid_response",
    "The model provider sent a response that is not valid JSON.",
  );

/** A JSON answer in the client's dialect: forwarded as it came, usage read after the end. */
export class PassthroughJson implements BodyConsumer, UsageReader {
  private readonly chunks: Buffer[] = [];
  private body: Buffer | undefined;

  constructor(
    private readonly out: ResponseWriter,
    private readonly plan: UpstreamPlan,
    private readonly status: number,
    private readonly contentType: string,
  ) {}

  onData(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  /**
   * A JSON answer is of no use to a client before its last byte, so it goes out whole, in
   * one write (measured: fewer syscalls than forwarding each chunk), and an answer cut short
   * can still be retried on another deployment.
   */
  onEnd(): void {
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.body = body;
    this.out.commit(this.status, {
      "content-type": this.contentType,
      "content-length": body.length,
    });
    // Usage is read once the client has its answer: parsing never delays the response.
    this.out.end(this, body);
  }

  readUsage(): TokenUsage | null {
    const usage = scanUsage(this.body as Buffer);
    return usage === undefined ? null : this.plan.usageFromJson({ usage });
  }

  onError(error: ProxyError): void {
    this.out.retry(error);
  }
}

/** A JSON answer in the other dialect: read whole, translated, sent. Nothing is sent before. */
export class TranslatedJson implements BodyConsumer {
  private readonly chunks: Buffer[] = [];

  constructor(
    private readonly out: ResponseWriter,
    private readonly plan: UpstreamPlan,
    private readonly status: number,
  ) {}

  onData(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onEnd(): void {
    const json = parseJson(this.chunks);
    if (json === undefined || typeof json !== "object" || json === null) {
      this.out.retry(invalidBody());
      return;
    }
    const translated = (this.plan.translateJson as (json: Json) => Json)(json);
    const body = JSON.stringify(translated);
    this.out.commit(this.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    this.out.end(this.plan.usageFromJson(json), body);
  }

  onError(error: ProxyError): void {
    this.out.retry(error);
  }
}

/** A stream's response headers; a new object each time, as `commit` adds the call's own. */
const sseHead = (): Record<string, string> => ({
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
});
const USAGE_OBJECT = /"usage":\s*\{/;

/** An event stream in the client's dialect: every chunk forwarded as it comes. */
export class PassthroughStream implements BodyConsumer {
  private readonly parser = new SseParser();
  private readonly usage = emptyUsage();

  constructor(
    private readonly out: ResponseWriter,
    private readonly plan: UpstreamPlan,
    status: number,
  ) {
    out.commit(status, sseHead());
  }

  onData(chunk: Buffer): void {
    this.out.write(chunk);
    for (const event of this.parser.push(chunk)) {
      // Only events that carry a usage object are worth parsing.
      if (!USAGE_OBJECT.test(event.data)) continue;
      try {
        mergeUsage(this.usage, this.plan.usageFromEvent(JSON.parse(event.data)));
      } catch {
        // A garbled event is the client's to see; it is not ours to count.
      }
    }
  }

  onEnd(): void {
    this.out.end(this.usage);
  }

  onError(error: ProxyError): void {
    this.out.abortStream(error);
  }
}

/** An event stream rewritten event by event (another dialect, or usage chunks dropped). */
export class TranslatedStream implements BodyConsumer {
  constructor(
    private readonly out: ResponseWriter,
    private readonly translator: StreamTranslator,
    status: number,
    private readonly parser: EventFramer = new SseParser(),
  ) {
    out.commit(status, sseHead());
  }

  onData(chunk: Buffer): void {
    let text = "";
    for (const event of this.parser.push(chunk)) text += this.translator.push(event);
    if (text) this.out.write(text);
  }

  onEnd(): void {
    let text = "";
    for (const event of this.parser.end()) text += this.translator.push(event);
    text += this.translator.end();
    this.out.end(this.translator.usage, text);
  }

  onError(error: ProxyError): void {
    this.out.abortStream(error);
  }
}

/** An error answer from the upstream: read whole, then retried, relayed or translated. */
export class UpstreamErrorBody implements BodyConsumer {
  private readonly chunks: Buffer[] = [];

  constructor(
    private readonly onComplete: (body: Buffer) => void,
    private readonly onBroken: (error: ProxyError) => void,
  ) {}

  onData(chunk: Buffer): void {
    // An error body is small; a huge one is not worth keeping.
    if (this.chunks.length < 64) this.chunks.push(chunk);
  }

  onEnd(): void {
    this.onComplete(Buffer.concat(this.chunks));
  }

  onError(error: ProxyError): void {
    this.onBroken(error);
  }
}
