import { Registry } from "prom-client";
import { type CounterSeries, PlainCounter, PlainHistogram } from "./metric-series.js";
import type { TokenUsage } from "./spend/usage.js";

/** A model group's usage series, found with one lookup per call. */
interface UsageSeries {
  input: CounterSeries;
  output: CounterSeries;
  cacheRead: CounterSeries;
  cacheWrite: CounterSeries;
  spend: CounterSeries;
}

/**
 * The proxy's Prometheus series, registered on the registry it is given (or its own). Each
 * call updates them after its response has gone, as plain numbers (see metric-series.ts):
 * prom-client does its label work when scraped, not once per call.
 */
export class ProxyMetrics {
  readonly registry: Registry;
  private readonly requests: PlainCounter;
  private readonly duration: PlainHistogram;
  private readonly upstreamLatency: PlainHistogram;
  private readonly tokens: PlainCounter;
  private readonly spend: PlainCounter;
  private readonly usageByModel = new Map<string, UsageSeries>();

  constructor(registry = new Registry(), prefix = "switchboard_proxy_") {
    this.registry = registry;
    const registers = [registry];
    this.requests = new PlainCounter({
      name: `${prefix}requests_total`,
      help: "Model calls answered, by endpoint, model group and status.",
      labelNames: ["endpoint", "model", "status"],
      registers,
    });
    this.duration = new PlainHistogram(
      `${prefix}request_duration_seconds`,
      "Time from a model call's arrival to its last byte, by endpoint.",
      [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    );
    this.upstreamLatency = new PlainHistogram(
      `${prefix}upstream_latency_seconds`,
      "Time from sending to a provider until its response headers, by provider.",
      [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    );
    this.tokens = new PlainCounter({
      name: `${prefix}tokens_total`,
      help: "Tokens used, by model group and kind (input, output, cache_read, cache_write).",
      labelNames: ["model", "kind"],
      registers,
    });
    this.spend = new PlainCounter({
      name: `${prefix}spend_usd_total`,
      help: "Spend in USD, by model group.",
      labelNames: ["model"],
      registers,
    });
  }

  callAnswered(endpoint: string, model: string, status: number, seconds: number | undefined): void {
    const key = `${endpoint}\u0000${model}\u0000${status}`;
    const requests =
      this.requests.find(key) ??
      this.requests.add(key, { endpoint, model, status: String(status) });
    requests.inc();
    if (seconds === undefined) return;
    const duration = this.duration.find(endpoint) ?? this.duration.add(endpoint, { endpoint });
    duration.observe(seconds);
  }

  upstreamAnswered(provider: string, seconds: number): void {
    const latency =
      this.upstreamLatency.find(provider) ?? this.upstreamLatency.add(provider, { provider });
    latency.observe(seconds);
  }

  used(model: string, usage: TokenUsage, costUsd: number): void {
    const series = this.usageByModel.get(model) ?? this.addUsageSeries(model);
    // As with prom-client, a series appears once something was added to it.
    if (usage.inputTokens > 0) series.input.inc(usage.inputTokens);
    if (usage.outputTokens > 0) series.output.inc(usage.outputTokens);
    if (usage.cacheReadTokens > 0) series.cacheRead.inc(usage.cacheReadTokens);
    if (usage.cacheWriteTokens > 0) series.cacheWrite.inc(usage.cacheWriteTokens);
    if (costUsd > 0) series.spend.inc(costUsd);
  }

  private addUsageSeries(model: string): UsageSeries {
    const kind = (name: string) => this.tokens.add(`${model}\u0000${name}`, { model, kind: name });
    const series = {
      input: kind("input"),
      output: kind("output"),
      cacheRead: kind("cache_read"),
      cacheWrite: kind("cache_write"),
      spend: this.spend.add(model, { model }),
    };
    this.usageByModel.set(model, series);
    return series;
  }
}
