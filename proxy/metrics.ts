import { Counter, Histogram, Registry } from "prom-client";
import type { TokenUsage } from "./spend/usage.js";

interface Incrementable {
  inc(value?: number): void;
}
interface Observable {
  observe(value: number): void;
}

/**
 * The proxy's Prometheus series, registered on the registry it is given (or its own). Each
 * call updates them after its response has gone; labelled children are kept by their label
 * values, so a call does not hash label objects (prom-client's `inc(labels)` does).
 */
export class ProxyMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<"endpoint" | "model" | "status">;
  private readonly duration: Histogram<"endpoint">;
  private readonly upstreamLatency: Histogram<"provider">;
  private readonly tokens: Counter<"model" | "kind">;
  private readonly spend: Counter<"model">;
  private readonly children = new Map<string, Incrementable | Observable>();

  constructor(registry = new Registry(), prefix = "switchboard_proxy_") {
    this.registry = registry;
    const registers = [registry];
    this.requests = new Counter({
      name: `${prefix}requests_total`,
      help: "Model calls answered, by endpoint, model group and status.",
      labelNames: ["endpoint", "model", "status"],
      registers,
    });
    this.duration = new Histogram({
      name: `${prefix}request_duration_seconds`,
      help: "Time from a model call's arrival to its last byte, by endpoint.",
      labelNames: ["endpoint"],
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.upstreamLatency = new Histogram({
      name: `${prefix}upstream_latency_seconds`,
      help: "Time from sending to a provider until its response headers, by provider.",
      labelNames: ["provider"],
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.tokens = new Counter({
      name: `${prefix}tokens_total`,
      help: "Tokens used, by model group and kind (input, output, cache_read, cache_write).",
      labelNames: ["model", "kind"],
      registers,
    });
    this.spend = new Counter({
      name: `${prefix}spend_usd_total`,
      help: "Spend in USD, by model group.",
      labelNames: ["model"],
      registers,
    });
  }

  /** The labelled child named by `key`, made by `make` the first time. */
  private child<C extends Incrementable | Observable>(key: string, make: () => C): C {
    let child = this.children.get(key) as C | undefined;
    if (!child) {
      child = make();
      this.children.set(key, child);
    }
    return child;
  }

  callAnswered(endpoint: string, model: string, status: number, seconds: number | undefined): void {
    const code = String(status);
    this.child(`requests\u0000${endpoint}\u0000${model}\u0000${code}`, () =>
      this.requests.labels({ endpoint, model, status: code }),
    ).inc();
    if (seconds === undefined) return;
    this.child(`duration\u0000${endpoint}`, () => this.duration.labels({ endpoint })).observe(
      seconds,
    );
  }

  upstreamAnswered(provider: string, seconds: number): void {
    this.child(`upstream\u0000${provider}`, () =>
      this.upstreamLatency.labels({ provider }),
    ).observe(seconds);
  }

  used(model: string, usage: TokenUsage, costUsd: number): void {
    const add = (kind: string, n: number) => {
      if (n <= 0) return;
      this.child(`tokens\u0000${model}\u0000${kind}`, () =>
        this.tokens.labels({ model, kind }),
      ).inc(n);
    };
    add("input", usage.inputTokens);
    add("output", usage.outputTokens);
    add("cache_read", usage.cacheReadTokens);
    add("cache_write", usage.cacheWriteTokens);
    if (costUsd > 0)
      this.child(`spend\u0000${model}`, () => this.spend.labels({ model })).inc(costUsd);
  }
}
