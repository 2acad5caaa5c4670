import type { Logger } from "pino";
import { OutageLog } from "../../core/index.js";
import { type FinishedSpan, otlpAttributes, otlpSpan } from "./otlp-span.js";

export interface OtlpExporterOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to its /v1/traces. */
  endpoint: string;
  /** service.name of the resource: `switchboard-web`, `switchboard-worker`, `switchboard-proxy`. */
  serviceName: string;
  logger: Logger;
  /** Spans per request (default 512). */
  batchSize?: number;
  /** How often queued spans are sent (default 2 s). */
  flushIntervalMs?: number;
  /** Spans kept while the collector is away; past it new ones are dropped (default 10,000). */
  maxQueued?: number;
  /** How long one send may take (default 10 s). */
  timeoutMs?: number;
}

/**
 * A small OTLP/HTTP exporter of traces (JSON encoding), written here because the
 * OpenTelemetry SDK is not among the dependencies and only finished spans are needed: runs
 * and model calls are timed by the code that runs them, and handed over whole. `export` only
 * queues; a timer sends batches off every caller's path. A collector that is down or refuses
 * a batch costs that batch (traces are a view, never the record: the ledger and the run
 * timeline are), and says so once per outage rather than once per batch.
 */
export class OtlpTraceExporter {
  private queue: FinishedSpan[] = [];
  private sending: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly url: string;
  private readonly outages: OutageLog;
  private dropped = 0;

  constructor(private readonly options: OtlpExporterOptions) {
    this.url = tracesUrl(options.endpoint);
    this.outages = new OutageLog(options.logger, "trace export");
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 2000);
    this.timer.unref();
  }

  export(span: FinishedSpan): void {
    if (this.queue.length >= (this.options.maxQueued ?? 10_000)) {
      this.dropped += 1;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= (this.options.batchSize ?? 512)) void this.flush();
  }

  /** Sends what is queued now; resolves when it has been sent (or given up). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.batchSize ?? 512);
    this.sending = this.send(batch).finally(() => {
      this.sending = undefined;
    });
    await this.sending;
    if (this.queue.length > 0) await this.flush();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async send(spans: FinishedSpan[]): Promise<void> {
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: {
            attributes: otlpAttributes({
              "service.name": this.options.serviceName,
              "telemetry.sdk.name": "switchboard",
              "telemetry.sdk.language": "nodejs",
            }),
          },
          scopeSpans: [{ scope: { name: "switchboard" }, spans: spans.map(otlpSpan) }],
        },
      ],
    });
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`the collector answered ${response.status}`);
      this.outages.restored();
      if (this.dropped > 0) {
        this.options.logger.warn(
          { dropped: this.dropped },
          "trace spans dropped while the queue was full",
        );
        this.dropped = 0;
      }
    } catch (error) {
      this.outages.failed(error);
    }
  }
}

/** The signal's path on the base endpoint, as the OTLP exporter specification says. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}
