import { describe, expect, it } from "vitest";
import { anthropicToOpenaiRequest } from "./anthropic-to-openai-request.js";
import { anthropicToOpenaiResponse } from "./anthropic-to-openai-response.js";
import { openaiToAnthropicRequest } from "./openai-to-anthropic-request.js";
import { openaiToAnthropicResponse } from "./openai-to-anthropic-response.js";
import { SseParser } from "./sse.js";

describe("request translation", () => {
  it("carries images, stops, sampling and tool settings from OpenAI chat to Anthropic", () => {
    const request = openaiToAnthropicRequest(
      {
        model: "claude",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
              { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
            ],
          },
        ],
        stop: "END",
        temperature: 1.7,
        top_p: 0.9,
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
        parallel_tool_calls: false,
      },
      "claude-x",
    );
    expect(request).toEqual({
      model: "claude-x",
      max_tokens: 4096,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
          ],
        },
      ],
      stop_sequences: ["END"],
      // Anthropic's temperature stops at 1.
      temperature: 1,
      top_p: 0.9,
      tools: [{ name: "f", description: undefined, input_schema: { type: "object" } }],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
    });
  });

  it("carries images, stops and tool choice from Anthropic to OpenAI chat", () => {
    const chat = anthropicToOpenaiRequest(
      {
        model: "gpt",
        max_tokens: 10,
        system: [{ type: "text", text: "Sys" }],
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "BBBB" } },
            ],
          },
        ],
        stop_sequences: ["x"],
        tools: [{ name: "g", input_schema: { type: "object" } }],
        tool_choice: { type: "any" },
      },
      "gpt-4o",
    );
    expect(chat.messages).toEqual([
      { role: "system", content: "Sys" },
      {
        role: "user",
        content: [{ type: "image_url", image_url: { url: "data:image/jpeg;base64,BBBB" } }],
      },
    ]);
    expect(chat).toMatchObject({
      model: "gpt-4o",
      max_tokens: 10,
      stop: ["x"],
      tool_choice: "required",
    });
  });

  it("round-trips a tool conversation OpenAI -> Anthropic -> OpenAI", () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Oslo?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "c1",
            type: "function",
            function: { name: "weather", arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "rain" },
    ];
    const back = anthropicToOpenaiRequest(
      openaiToAnthropicRequest({ model: "m", messages }, "m"),
      "m",
    );
    expect(back.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Weather in Oslo?" }] },
      messages[2],
      messages[3],
    ]);
  });

  it("round-trips an answer Anthropic -> OpenAI -> Anthropic", () => {
    const message = {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude",
      content: [
        { type: "text", text: "Looking." },
        { type: "tool_use", id: "t1", name: "weather", input: { city: "Oslo" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: {
        input_tokens: 10,
        output_tokens: 3,
        cache_read_input_tokens: 4,
        cache_creation_input_tokens: 0,
      },
    };
    expect(
      openaiToAnthropicResponse(anthropicToOpenaiResponse(message, "claude"), "claude"),
    ).toEqual(message);
  });
});

describe("SseParser", () => {
  it("splits events however the bytes are cut, CRLF and multi-line data included", () => {
    const text =
      'event: a\r\ndata: {"x":"é"}\r\n\r\ndata: line1\ndata: line2\n\n: comment\n\ndata: [DONE]\n\n';
    const bytes = Buffer.from(text);
    for (let size = 1; size <= bytes.length; size += 5) {
      const parser = new SseParser();
      const events = [];
      for (let at = 0; at < bytes.length; at += size)
        events.push(...parser.push(bytes.subarray(at, at + size)));
      expect(events).toEqual([
        { event: "a", data: '{"x":"é"}' },
        { event: "", data: "line1\nline2" },
        { event: "", data: "[DONE]" },
      ]);
    }
  });
});
