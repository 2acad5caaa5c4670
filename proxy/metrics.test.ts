import { describe, expect, it } from "vitest";
import { ProxyMetrics } from "./metrics.js";

describe("ProxyMetrics", () => {
  it("exports counters and histograms counted in plain numbers, as prom-client would", async () => {
    const metrics = new ProxyMetrics();
    metrics.callAnswered("chat", "gpt-4o", 200, 0.003);
    metrics.callAnswered("chat", "gpt-4o", 200, 0.2);
    metrics.callAnswered("chat", "gpt-4o", 429, undefined);
    metrics.upstreamAnswered("openai", 0.001);
    metrics.used(
      "gpt-4o",
      { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 },
      0.25,
    );
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'switchboard_proxy_requests_total{endpoint="chat",model="gpt-4o",status="200"} 2',
    );
    expect(text).toContain(
      'switchboard_proxy_requests_total{endpoint="chat",model="gpt-4o",status="429"} 1',
    );
    expect(text).toContain("# TYPE switchboard_proxy_request_duration_seconds histogram");
    expect(text).toContain(
      'switchboard_proxy_request_duration_seconds_bucket{endpoint="chat",le="0.005"} 1',
    );
    expect(text).toContain(
      'switchboard_proxy_request_duration_seconds_bucket{endpoint="chat",le="0.25"} 2',
    );
    expect(text).toContain(
      'switchboard_proxy_request_duration_seconds_bucket{endpoint="chat",le="+Inf"} 2',
    );
    expect(text).toContain('switchboard_proxy_request_duration_seconds_sum{endpoint="chat"} 0.203');
    expect(text).toContain('switchboard_proxy_request_duration_seconds_count{endpoint="chat"} 2');
    expect(text).toContain('switchboard_proxy_upstream_latency_seconds_count{provider="openai"} 1');
    expect(text).toContain('switchboard_proxy_tokens_total{model="gpt-4o",kind="input"} 10');
    expect(text).not.toContain('kind="cache_read"');
    expect(text).toContain('switchboard_proxy_spend_usd_total{model="gpt-4o"} 0.25');

    // A second scrape adds only what was counted since the first.
    metrics.callAnswered("chat", "gpt-4o", 200, 0.003);
    expect(await metrics.registry.metrics()).toContain(
      'switchboard_proxy_requests_total{endpoint="chat",model="gpt-4o",status="200"} 3',
    );
  });
});
