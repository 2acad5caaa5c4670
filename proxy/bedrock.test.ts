import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  converseAnswer,
  converseStream,
  eventStream,
  hasValidSignature,
} from "../test/doubles/bedrock-wire.js";
import { json, UpstreamDouble } from "../test/doubles/upstream-double.js";
import type { RunningProxy } from "./index.js";
import { MASTER_KEY, startTestProxy } from "./testing/test-proxy.js";

const MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const CONVERSE_PATH = `/model/${encodeURIComponent(MODEL_ID)}/converse`;
const credentials = {
  accessKeyId: "AKIATEST",
  secretAccessKey: "test-secret",
  region: "us-east-1",
};

describe("Bedrock Converse, signed with SigV4", () => {
  let bedrock: UpstreamDouble;
  let proxy: RunningProxy;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    bedrock = await UpstreamDouble.start("bedrock");
    proxy = await startTestProxy({
      model_list: [
        {
          model_name: "sonnet",
          litellm_params: {
            model: `bedrock/${MODEL_ID}`,
            api_base: bedrock.url,
            aws_access_key_id: credentials.accessKeyId,
            aws_secret_access_key: credentials.secretAccessKey,
            aws_region_name: credentials.region,
          },
        },
      ],
    });
    openai = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: MASTER_KEY, baseURL: proxy.url, maxRetries: 0 });
  });
  afterEach(() => bedrock.verify());
  afterAll(async () => {
    await proxy.close();
    await bedrock.close();
  });

  it("answers OpenAI chat from Converse, with a valid signature and tools translated", async () => {
    const seen = bedrock.expect(
      `POST ${CONVERSE_PATH}`,
      json(
        200,
        converseAnswer({
          text: "Let me look.",
          toolUse: { toolUseId: "t1", name: "lookup", input: { q: "a" } },
        }),
      ),
    );
    const completion = await openai.chat.completions.create({
      model: "sonnet",
      max_tokens: 64,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Find a" },
      ],
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
    });
    const request = await seen;
    expect(await hasValidSignature(request, credentials, bedrock.url)).toBe(true);
    expect(
      await hasValidSignature(request, { ...credentials, secretAccessKey: "other" }, bedrock.url),
    ).toBe(false);
    expect(request.body).toEqual({
      messages: [{ role: "user", content: [{ text: "Find a" }] }],
      system: [{ text: "Be brief." }],
      inferenceConfig: { maxTokens: 64 },
      toolConfig: {
        tools: [{ toolSpec: { name: "lookup", inputSchema: { json: { type: "object" } } } }],
      },
    });
    const choice = completion.choices[0];
    expect(choice?.message.content).toBe("Let me look.");
    expect(choice?.finish_reason).toBe("tool_calls");
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ q: "a" });
    expect(completion.usage).toMatchObject({ prompt_tokens: 15, completion_tokens: 7 });
  });

  it("streams OpenAI chunks from ConverseStream's binary event stream", async () => {
    bedrock.expect(
      `POST /model/${encodeURIComponent(MODEL_ID)}/converse-stream`,
      eventStream(converseStream({ pieces: ["Hi", " there"] })),
    );
    const stream = await openai.chat.completions.create({
      model: "sonnet",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe("Hi there");
    expect(usage).toMatchObject({ prompt_tokens: 15, completion_tokens: 7 });
  });

  it("serves the Anthropic client, plain and streaming", async () => {
    bedrock.expect(`POST ${CONVERSE_PATH}`, json(200, converseAnswer({ text: "Bonjour" })));
    const message = await anthropic.messages.create({
      model: "sonnet",
      max_tokens: 10,
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(message.content).toEqual([{ type: "text", text: "Bonjour" }]);
    expect(message.usage.input_tokens).toBe(15);

    bedrock.expect(
      `POST /model/${encodeURIComponent(MODEL_ID)}/converse-stream`,
      eventStream(converseStream({ pieces: ["a", "b"] })),
    );
    const final = await anthropic.messages
      .stream({ model: "sonnet", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] })
      .finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "ab" }]);
    expect(final.usage.output_tokens).toBe(7);
  });

  it("relays Bedrock's error message in the client's dialect", async () => {
    bedrock.expect(
      `POST ${CONVERSE_PATH}`,
      json(400, { message: "The model returned the following errors: bad input" }),
    );
    const error = await openai.chat.completions
      .create({ model: "sonnet", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toMatch(/bad input/);
  });
});
