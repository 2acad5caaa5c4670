import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chatCompletion, chatStream } from "../test/doubles/openai-wire.js";
import { json, sse, UpstreamDouble } from "../test/doubles/upstream-double.js";
import type { RunningProxy } from "./index.js";
import { MASTER_KEY, oneModel, startTestProxy } from "./testing/test-proxy.js";

describe("OpenAI-compatible endpoints through the official openai client", () => {
  let upstream: UpstreamDouble;
  let proxy: RunningProxy;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await UpstreamDouble.start("openai");
    proxy = await startTestProxy({
      model_list: [
        oneModel("gpt-4o", "openai/gpt-4o", `${upstream.url}/v1`),
        oneModel("fast", "openai/gpt-4o-mini", `${upstream.url}/v1`),
        oneModel("embed", "openai/text-embedding-3-small", `${upstream.url}/v1`),
      ],
    });
    client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => upstream.verify());
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("answers a chat completion, sending the deployment's model and key upstream", async () => {
    const seen = upstream.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o-mini-2024", content: "Hello there" })),
    );
    const { data, response } = await client.chat.completions
      .create({ model: "fast", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello there");
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(response.headers.get("x-switchboard-overhead-ms"))).toBeGreaterThanOrEqual(0);
    const request = await seen;
    expect(request.body.model).toBe("gpt-4o-mini");
    expect(request.headers.authorization).toBe("Bearer upstream-secret");
  });

  it("forwards the client's body unchanged when the model id is the same upstream", async () => {
    const seen = upstream.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "ok" })),
    );
    await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "é ✓" }],
      temperature: 0.2,
    });
    const request = await seen;
    expect(request.body).toEqual({
      model: "gpt-4o",
      messages: [{ role: "user", content: "é ✓" }],
      temperature: 0.2,
    });
  });

  it("streams chunk by chunk and hides the usage chunk the client did not ask for", async () => {
    const seen = upstream.expect(
      "POST /v1/chat/completions",
      sse(chatStream({ model: "gpt-4o", pieces: ["Hel", "lo", " world"], includeUsage: true })),
    );
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    const pieces: string[] = [];
    let sawUsage = false;
    for await (const chunk of stream) {
      if (chunk.usage) sawUsage = true;
      const text = chunk.choices[0]?.delta.content;
      if (text) pieces.push(text);
    }
    expect(pieces).toEqual(["Hel", "lo", " world"]);
    expect(sawUsage).toBe(false);
    expect((await seen).body.stream_options).toEqual({ include_usage: true });
  });

  it("passes the usage chunk through when the client asked for it", async () => {
    upstream.expect(
      "POST /v1/chat/completions",
      sse(
        chatStream({
          model: "gpt-4o",
          pieces: ["ok"],
          includeUsage: true,
          promptTokens: 7,
          completionTokens: 3,
        }),
      ),
    );
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3 });
  });

  it("passes tool calls through", async () => {
    upstream.expect(
      "POST /v1/chat/completions",
      json(
        200,
        chatCompletion({
          model: "gpt-4o",
          toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' }],
        }),
      ),
    );
    const completion = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Weather in Oslo?" }],
      tools: [
        { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
      ],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === "function" && call.function).toEqual({
      name: "get_weather",
      arguments: '{"city":"Oslo"}',
    });
  });

  it("serves embeddings", async () => {
    upstream.expect(
      "POST /v1/embeddings",
      json(200, {
        object: "list",
        data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 2, total_tokens: 2 },
      }),
    );
    const result = await client.embeddings.create({
      model: "embed",
      input: "hi",
      encoding_format: "float",
    });
    expect(result.data[0]?.embedding).toEqual([0.1, 0.2]);
  });

  it("serves the Responses API", async () => {
    const seen = upstream.expect(
      "POST /v1/responses",
      json(200, {
        id: "resp_1",
        object: "response",
        created_at: 1,
        status: "completed",
        model: "gpt-4o",
        output: [
          {
            type: "message",
            id: "msg_1",
            status: "completed",
            role: "assistant",
            content: [{ type: "output_text", text: "Answer", annotations: [] }],
          },
        ],
        usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
      }),
    );
    const response = await client.responses.create({ model: "gpt-4o", input: "Question" });
    expect(response.output_text).toBe("Answer");
    expect((await seen).body.input).toBe("Question");
  });

  it("lists the configured model groups", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(["gpt-4o", "fast", "embed"]);
  });
});
