import OpenAI from "openai";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chatCompletion, chatStream } from "../test/doubles/openai-wire.js";
import { json, sse, UpstreamDouble } from "../test/doubles/upstream-double.js";
import type { RunningProxy } from "./index.js";
import { MASTER_KEY, oneModel, startTestProxy } from "./testing/test-proxy.js";

describe("streaming, Azure routing and metrics", () => {
  let upstream: UpstreamDouble;
  let proxy: RunningProxy;
  let openai: OpenAI;

  beforeAll(async () => {
    upstream = await UpstreamDouble.start("openai");
    proxy = await startTestProxy({
      model_list: [
        oneModel("gpt-4o", "openai/gpt-4o", `${upstream.url}/v1`),
        oneModel("azure-gpt", "azure/my-gpt-deployment", upstream.url, {
          api_version: "2024-10-21",
        }),
      ],
    });
    openai = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => upstream.verify());
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("delivers each chunk before the upstream sends the next (nothing is buffered)", async () => {
    const events = chatStream({
      model: "gpt-4o",
      pieces: ["a", "b", "c", "d"],
      includeUsage: true,
    });
    // The double sends event i only once the client has seen the chunk of event i-1.
    const seenByClient: Array<() => void> = [];
    const clientSaw = events.map(
      (_, i) => new Promise<void>((resolve) => (seenByClient[i] = resolve)),
    );
    upstream.expect(
      "POST /v1/chat/completions",
      sse(events, async (index) => {
        if (index >= 2 && index <= 4) await clientSaw[index - 1];
      }),
    );
    const stream = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [],
      stream: true,
    });
    let index = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) index += 1;
      seenByClient[index]?.();
    }
    expect(index).toBe(4);
  });

  it("holds the upstream back while the client does not read (backpressure)", async () => {
    const megabyte = `data: ${JSON.stringify({ pad: "x".repeat(1024 * 1024) })}\n\n`;
    let written = 0;
    let lastProgress = Date.now();
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    upstream.expect("POST /v1/chat/completions", async ({ res }) => {
      res.on("close", () => upstreamClosed());
      res.writeHead(200, { "content-type": "text/event-stream" });
      while (written < 256 && !res.destroyed) {
        if (!res.write(megabyte))
          await new Promise((resolve) => res.once("drain", resolve).once("close", resolve));
        written += 1;
        lastProgress = Date.now();
      }
    });
    const response = await request(`${proxy.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-4o",
        messages: [],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    expect(response.statusCode).toBe(200);
    // The client reads nothing. Without backpressure the proxy would take all 256 MB into
    // memory; with it, the upstream's writes stop draining once the socket buffers are full.
    while (written < 256 && Date.now() - lastProgress < 1000)
      await new Promise((r) => setTimeout(r, 50));
    expect(written).toBeLessThan(256);
    response.body.destroy();
    await closed;
  });

  it("routes Azure deployments to their deployment path with api-version and api-key", async () => {
    const seen = upstream.expect(
      "POST /openai/deployments/my-gpt-deployment/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "from azure" })),
    );
    const completion = await openai.chat.completions.create({ model: "azure-gpt", messages: [] });
    expect(completion.choices[0]?.message.content).toBe("from azure");
    const received = await seen;
    expect(received.url).toContain("api-version=2024-10-21");
    expect(received.headers["api-key"]).toBe("upstream-secret");
    expect(received.headers.authorization).toBeUndefined();
  });

  it("counts requests and tokens in Prometheus metrics", async () => {
    upstream.expect(
      "POST /v1/chat/completions",
      json(
        200,
        chatCompletion({ model: "gpt-4o", content: "x", promptTokens: 30, completionTokens: 4 }),
      ),
    );
    await openai.chat.completions.create({ model: "gpt-4o", messages: [] });
    const metrics = await (await request(`${proxy.url}/metrics`)).body.text();
    expect(metrics).toMatch(
      /switchboard_proxy_requests_total\{endpoint="chat",model="gpt-4o",status="200"\} \d+/,
    );
    expect(metrics).toMatch(/switchboard_proxy_tokens_total\{model="gpt-4o",kind="input"\} \d+/);
    expect(metrics).toContain("switchboard_proxy_upstream_latency_seconds_bucket");
  });
});
