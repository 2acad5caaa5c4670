import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { anthropicMessage, anthropicStream } from "../test/doubles/anthropic-wire.js";
import { chatCompletion, chatStream } from "../test/doubles/openai-wire.js";
import { json, sse, UpstreamDouble } from "../test/doubles/upstream-double.js";
import type { RunningProxy } from "./index.js";
import { MASTER_KEY, oneModel, startTestProxy } from "./testing/test-proxy.js";

describe("the OpenAI and Anthropic dialects, each served by the other's upstream", () => {
  let openaiUpstream: UpstreamDouble;
  let anthropicUpstream: UpstreamDouble;
  let proxy: RunningProxy;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    openaiUpstream = await UpstreamDouble.start("openai");
    anthropicUpstream = await UpstreamDouble.start("anthropic");
    proxy = await startTestProxy({
      model_list: [
        oneModel("claude", "anthropic/claude-sonnet-4-20250514", anthropicUpstream.url),
        oneModel("gpt", "openai/gpt-4o", `${openaiUpstream.url}/v1`),
      ],
    });
    openai = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: MASTER_KEY, baseURL: proxy.url, maxRetries: 0 });
  });
  afterEach(() => {
    openaiUpstream.verify();
    anthropicUpstream.verify();
  });
  afterAll(async () => {
    await proxy.close();
    await openaiUpstream.close();
    await anthropicUpstream.close();
  });

  it("OpenAI chat to an Anthropic model: system, turns and tools translated both ways", async () => {
    const seen = anthropicUpstream.expect(
      "POST /v1/messages",
      json(
        200,
        anthropicMessage({
          model: "claude-sonnet-4-20250514",
          text: "Checking.",
          toolUses: [{ id: "toolu_1", name: "get_weather", input: { city: "Oslo" } }],
          inputTokens: 20,
          outputTokens: 9,
        }),
      ),
    );
    const completion = await openai.chat.completions.create({
      model: "claude",
      max_tokens: 100,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_0",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Bergen"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_0", content: "rain" },
        { role: "user", content: "And Oslo?" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Weather",
            parameters: { type: "object", properties: { city: { type: "string" } } },
          },
        },
      ],
      tool_choice: "required",
    });
    const request = (await seen).body;
    expect(request.model).toBe("claude-sonnet-4-20250514");
    expect(request.system).toBe("Be brief.");
    expect(request.max_tokens).toBe(100);
    expect(request.tool_choice).toEqual({ type: "any" });
    expect(request.tools[0]).toMatchObject({
      name: "get_weather",
      input_schema: { type: "object" },
    });
    expect(request.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "call_0", name: "get_weather", input: { city: "Bergen" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_0", content: "rain" },
          { type: "text", text: "And Oslo?" },
        ],
      },
    ]);
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBe("Checking.");
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({
      city: "Oslo",
    });
    expect(completion.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 9 });
    expect(completion.model).toBe("claude");
  });

  it("OpenAI streaming from an Anthropic model, with usage when asked", async () => {
    anthropicUpstream.expect(
      "POST /v1/messages",
      sse(
        anthropicStream({
          model: "claude-sonnet-4-20250514",
          pieces: ["Hel", "lo"],
          inputTokens: 4,
          outputTokens: 2,
        }),
      ),
    );
    const stream = await openai.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe("Hello");
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 2 });
  });

  it("OpenAI streaming tool calls from an Anthropic model", async () => {
    anthropicUpstream.expect(
      "POST /v1/messages",
      sse(
        anthropicStream({
          model: "claude",
          pieces: [],
          toolUses: [{ id: "toolu_9", name: "lookup", input: { q: "x" } }],
        }),
      ),
    );
    const runner = openai.chat.completions.stream({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(call?.id).toBe("toolu_9");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ q: "x" });
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("Anthropic messages to an OpenAI model, tools included", async () => {
    const seen = openaiUpstream.expect(
      "POST /v1/chat/completions",
      json(
        200,
        chatCompletion({
          model: "gpt-4o",
          content: "Sure.",
          toolCalls: [{ id: "call_7", name: "lookup", arguments: '{"q":"y"}' }],
          promptTokens: 11,
          completionTokens: 4,
        }),
      ),
    );
    const message = await anthropic.messages.create({
      model: "gpt",
      max_tokens: 50,
      system: "You help.",
      messages: [
        { role: "user", content: "Find y" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "lookup", input: { q: "z" } }],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "nothing" },
            { type: "text", text: "try y" },
          ],
        },
      ],
      tools: [
        { name: "lookup", input_schema: { type: "object", properties: { q: { type: "string" } } } },
      ],
    });
    const request = (await seen).body;
    expect(request.messages).toEqual([
      { role: "system", content: "You help." },
      { role: "user", content: "Find y" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "toolu_1", type: "function", function: { name: "lookup", arguments: '{"q":"z"}' } },
        ],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "nothing" },
      { role: "user", content: [{ type: "text", text: "try y" }] },
    ]);
    expect(request.tools[0].function.name).toBe("lookup");
    expect(message.content).toEqual([
      { type: "text", text: "Sure." },
      { type: "tool_use", id: "call_7", name: "lookup", input: { q: "y" } },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage.input_tokens).toBe(11);
    expect(message.usage.output_tokens).toBe(4);
  });

  it("Anthropic streaming from an OpenAI model", async () => {
    const seen = openaiUpstream.expect(
      "POST /v1/chat/completions",
      sse(
        chatStream({
          model: "gpt-4o",
          pieces: ["Bon", "jour"],
          includeUsage: true,
          promptTokens: 6,
          completionTokens: 2,
        }),
      ),
    );
    const stream = anthropic.messages.stream({
      model: "gpt",
      max_tokens: 20,
      messages: [{ role: "user", content: "Hi" }],
    });
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const final = await stream.finalMessage();
    expect(texts).toEqual(["Bon", "jour"]);
    expect(final.content).toEqual([{ type: "text", text: "Bonjour" }]);
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBe(2);
    expect((await seen).body.stream_options).toEqual({ include_usage: true });
  });

  it("Anthropic streaming tool use from an OpenAI model", async () => {
    openaiUpstream.expect(
      "POST /v1/chat/completions",
      sse(
        chatStream({
          model: "gpt-4o",
          pieces: [],
          toolCalls: [{ id: "call_3", name: "lookup", arguments: '{"q":"w"}' }],
          includeUsage: true,
        }),
      ),
    );
    const final = await anthropic.messages
      .stream({ model: "gpt", max_tokens: 20, messages: [{ role: "user", content: "Hi" }] })
      .finalMessage();
    expect(final.content).toEqual([
      { type: "tool_use", id: "call_3", name: "lookup", input: { q: "w" } },
    ]);
    expect(final.stop_reason).toBe("tool_use");
  });

  it("Anthropic messages to an Anthropic model pass through, streaming too", async () => {
    const seen = anthropicUpstream.expect(
      "POST /v1/messages",
      json(200, anthropicMessage({ model: "claude-sonnet-4-20250514", text: "Hi!" })),
    );
    const message = await anthropic.messages.create({
      model: "claude",
      max_tokens: 10,
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(message.content).toEqual([{ type: "text", text: "Hi!" }]);
    const request = await seen;
    expect(request.headers["x-api-key"]).toBe("upstream-secret");
    // The client's own API version goes upstream.
    expect(request.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(request.body.model).toBe("claude-sonnet-4-20250514");

    anthropicUpstream.expect(
      "POST /v1/messages",
      sse(anthropicStream({ model: "claude", pieces: ["a", "b", "c"] })),
    );
    const texts: string[] = [];
    const stream = anthropic.messages.stream({
      model: "claude",
      max_tokens: 10,
      messages: [{ role: "user", content: "Hi" }],
    });
    stream.on("text", (t) => texts.push(t));
    await stream.finalMessage();
    expect(texts).toEqual(["a", "b", "c"]);
  });

  it("raises the Anthropic SDK's error when the upstream breaks off mid-stream", async () => {
    const events = anthropicStream({ model: "claude", pieces: ["one", "two"] });
    anthropicUpstream.expect("POST /v1/messages", async ({ res, req }) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const event of events.slice(0, 4)) res.write(event);
      await new Promise((resolve) => setTimeout(resolve, 20));
      req.socket.destroy();
    });
    const stream = anthropic.messages.stream({
      model: "claude",
      max_tokens: 10,
      messages: [{ role: "user", content: "Hi" }],
    });
    const texts: string[] = [];
    stream.on("text", (t) => texts.push(t));
    const error = await stream.finalMessage().catch((e) => e);
    expect(texts).toEqual(["one"]);
    expect(error).toBeInstanceOf(Anthropic.APIError);
  });

  it("counts tokens on an Anthropic model", async () => {
    anthropicUpstream.expect("POST /v1/messages/count_tokens", json(200, { input_tokens: 42 }));
    const count = await anthropic.messages.countTokens({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(count.input_tokens).toBe(42);
  });

  it("lists models in Anthropic's shape to the Anthropic client", async () => {
    const ids = [];
    for await (const model of anthropic.models.list()) ids.push(model.id);
    expect(ids).toEqual(["claude", "gpt"]);
  });
});
