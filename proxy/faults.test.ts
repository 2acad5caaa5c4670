import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { anthropicMessage } from "../test/doubles/anthropic-wire.js";
import { chatCompletion, chatStream, openaiError } from "../test/doubles/openai-wire.js";
import { garbage, hang, json, reset, UpstreamDouble } from "../test/doubles/upstream-double.js";
import type { RunningProxy } from "./index.js";
import { MASTER_KEY, oneModel, startTestProxy } from "./testing/test-proxy.js";

describe("bad input and upstream faults", () => {
  let primary: UpstreamDouble;
  let backup: UpstreamDouble;
  let anthropicUpstream: UpstreamDouble;
  let proxy: RunningProxy;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    primary = await UpstreamDouble.start("primary");
    backup = await UpstreamDouble.start("backup");
    anthropicUpstream = await UpstreamDouble.start("anthropic");
    proxy = await startTestProxy({
      model_list: [
        oneModel("main", "openai/gpt-4o", `${primary.url}/v1`),
        oneModel("spare", "openai/gpt-4o-mini", `${backup.url}/v1`),
        oneModel("slow", "openai/gpt-4o", `${primary.url}/v1`, { timeout: 0.3 }),
        oneModel("claude", "anthropic/claude-sonnet-4-20250514", anthropicUpstream.url),
        oneModel("keyless", "openai/gpt-4o", `${primary.url}/v1`, {
          api_key: "os.environ/MISSING_PROVIDER_KEY",
        }),
      ],
      router_settings: { num_retries: 1, allowed_fails: 1000, fallbacks: [{ main: ["spare"] }] },
      general_settings: { master_key: MASTER_KEY, max_request_size_mb: 0.01 },
    });
    openai = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: MASTER_KEY, baseURL: proxy.url, maxRetries: 0 });
  });
  afterEach(() => {
    primary.verify();
    backup.verify();
    anthropicUpstream.verify();
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([primary.close(), backup.close(), anthropicUpstream.close()]);
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    request(`${proxy.url}${path}`, {
      method: "POST",
      body,
      headers: {
        authorization: `Bearer ${MASTER_KEY}`,
        "content-type": "application/json",
        ...headers,
      },
    });

  it("answers malformed JSON with a 400 in each dialect", async () => {
    const openaiAnswer = await post("/v1/chat/completions", "{not json");
    expect(openaiAnswer.statusCode).toBe(400);
    expect(await openaiAnswer.body.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "invalid_json" },
    });
    const anthropicAnswer = await post("/v1/messages", "{not json");
    expect(anthropicAnswer.statusCode).toBe(400);
    expect(await anthropicAnswer.body.json()).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error" },
    });
  });

  it("refuses a call nested past any real one with a 400 in words, not a 500, and sends nothing upstream", async () => {
    const deep = `{"model":"main","messages":[{"role":"user","content":"hi"}],"metadata":${"[".repeat(5_000)}${"]".repeat(5_000)}}`;
    const answer = await post("/v1/chat/completions", deep);
    expect(answer.statusCode).toBe(400);
    expect(((await answer.body.json()) as { error: { message: string } }).error.message).toMatch(
      /metadata.* is nested more than 128 levels deep/,
    );
    // NUL and half surrogate pairs are the provider's to judge: the proxy stores no prompt.
    primary.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "ok" })),
    );
    const odd = await post(
      "/v1/chat/completions",
      JSON.stringify({ model: "main", messages: [{ role: "user", content: "a\u0000b \ud800" }] }),
    );
    expect(odd.statusCode).toBe(200);
    await odd.body.text();
  });

  it("refuses a request without a model", async () => {
    const answer = await post("/v1/chat/completions", JSON.stringify({ messages: [] }));
    expect(answer.statusCode).toBe(400);
    expect(((await answer.body.json()) as { error: { message: string } }).error.message).toMatch(
      /model/,
    );
  });

  it("refuses a malformed request in the client's dialect, sending nothing upstream", async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        "/v1/chat/completions",
        { model: "main", messages: "hello" },
        /`messages` must be an array.*got a string/,
      ],
      [
        "/v1/chat/completions",
        { model: "main", messages: ["hello"] },
        /`messages\[0\]` must be an object/,
      ],
      [
        "/v1/chat/completions",
        { model: "main", messages: [{ content: "hi" }] },
        /`messages\[0\]\.role` must be a string/,
      ],
      [
        "/v1/chat/completions",
        { model: "main", messages: [{ role: "user", content: 5 }] },
        /content` must be a string or an array/,
      ],
      [
        "/v1/chat/completions",
        { model: "main", messages: [], stream: "yes" },
        /`stream` must be true or false/,
      ],
      [
        "/v1/embeddings",
        { model: "main", input: { text: "hi" } },
        /`input` must be a string or an array/,
      ],
    ];
    for (const [path, body, message] of cases) {
      const answer = await post(path, JSON.stringify(body));
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
      const error = ((await answer.body.json()) as { error: { message: string; type: string } })
        .error;
      expect(error.type).toBe("invalid_request_error");
      expect(error.message).toMatch(message);
    }
    const anthropicAnswer = await post(
      "/v1/messages",
      JSON.stringify({ model: "claude", max_tokens: 10, messages: "hello" }),
    );
    expect(anthropicAnswer.statusCode).toBe(400);
    expect(await anthropicAnswer.body.json()).toMatchObject({
      type: "error",
      error: {
        type: "invalid_request_error",
        message: expect.stringMatching(/`messages` must be an array/),
      },
    });
  });

  it("refuses a deployment whose API key variable is unset, naming the variable, without calling it", async () => {
    const answer = await post(
      "/v1/chat/completions",
      JSON.stringify({ model: "keyless", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(answer.statusCode).toBe(502);
    const error = ((await answer.body.json()) as { error: { message: string; type: string } })
      .error;
    expect(error.message).toContain("environment variable MISSING_PROVIDER_KEY, which is not set");
    expect(error.message).toContain("Nothing was sent to the provider.");
  });

  it("refuses a missing or wrong key with the SDKs' authentication errors", async () => {
    const noKey = await post("/v1/chat/completions", "{}", { authorization: "" });
    expect(noKey.statusCode).toBe(401);
    expect(await noKey.body.json()).toMatchObject({
      error: { type: "authentication_error", code: "missing_key" },
    });
    const wrongOpenai = new OpenAI({
      apiKey: "sk-wrong",
      baseURL: `${proxy.url}/v1`,
      maxRetries: 0,
    });
    await expect(
      wrongOpenai.chat.completions.create({ model: "main", messages: [] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const wrong = new Anthropic({ apiKey: "sk-wrong", baseURL: proxy.url, maxRetries: 0 });
    await expect(
      wrong.messages.create({
        model: "claude",
        max_tokens: 5,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it("answers an unknown model with 404 and sends nothing upstream", async () => {
    const error = await openai.chat.completions
      .create({ model: "nope", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.message).toMatch(/"nope" is not served/);
  });

  it("refuses a body over the configured limit with 413", async () => {
    const error = await openai.chat.completions
      .create({ model: "main", messages: [{ role: "user", content: "x".repeat(20_000) }] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(413);
  });

  it("retries a 5xx on the group, then succeeds", async () => {
    primary.expect("POST /v1/chat/completions", json(500, openaiError("boom")));
    primary.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "second time" })),
    );
    const completion = await openai.chat.completions.create({
      model: "main",
      messages: [{ role: "user", content: "x" }],
    });
    expect(completion.choices[0]?.message.content).toBe("second time");
  });

  it("falls back to another model group after 429s", async () => {
    primary.expect("POST /v1/chat/completions", json(429, openaiError("slow down", "rate_limit")));
    primary.expect("POST /v1/chat/completions", json(429, openaiError("slow down", "rate_limit")));
    const seen = backup.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o-mini", content: "from spare" })),
    );
    const completion = await openai.chat.completions.create({
      model: "main",
      messages: [{ role: "user", content: "x" }],
    });
    expect(completion.choices[0]?.message.content).toBe("from spare");
    expect((await seen).body.model).toBe("gpt-4o-mini");
  });

  it("relays the last upstream error when every attempt fails", async () => {
    for (let i = 0; i < 2; i += 1)
      primary.expect("POST /v1/chat/completions", json(503, openaiError("overloaded")));
    for (let i = 0; i < 2; i += 1)
      backup.expect("POST /v1/chat/completions", json(503, openaiError("also overloaded")));
    const error = await openai.chat.completions
      .create({ model: "main", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/also overloaded/);
  });

  it("does not retry a 400 from the upstream and keeps its message", async () => {
    primary.expect(
      "POST /v1/chat/completions",
      json(400, openaiError("bad messages", "invalid_request_error")),
    );
    const error = await openai.chat.completions
      .create({ model: "main", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toMatch(/bad messages/);
  });

  it("turns an upstream's refusal of the proxy's credentials into a 502, not the client's 401", async () => {
    primary.expect("POST /v1/chat/completions", json(401, openaiError("bad upstream key")));
    const error = await openai.chat.completions
      .create({ model: "main", messages: [] })
      .catch((e) => e);
    expect(error.status).toBe(502);
  });

  it("retries after a connection reset", async () => {
    primary.expect("POST /v1/chat/completions", reset());
    primary.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "after reset" })),
    );
    const completion = await openai.chat.completions.create({ model: "main", messages: [] });
    expect(completion.choices[0]?.message.content).toBe("after reset");
  });

  it("retries a JSON answer that breaks off midway (nothing had reached the client)", async () => {
    primary.expect("POST /v1/chat/completions", ({ res, req }) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      res.write('{"id":"chatcmpl-cut","choices":[');
      setImmediate(() => req.socket.destroy());
    });
    primary.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "whole" })),
    );
    const completion = await openai.chat.completions.create({ model: "main", messages: [] });
    expect(completion.choices[0]?.message.content).toBe("whole");
  });

  it("answers 504 when the upstream does not answer in time", async () => {
    primary.expect("POST /v1/chat/completions", hang());
    primary.expect("POST /v1/chat/completions", hang());
    const error = await openai.chat.completions
      .create({ model: "slow", messages: [] })
      .catch((e) => e);
    expect(error.status).toBe(504);
    expect(error.message).toMatch(/did not answer in time/);
  });

  it("answers 502 when the upstream speaks garbage", async () => {
    primary.expect("POST /v1/chat/completions", garbage());
    primary.expect("POST /v1/chat/completions", garbage());
    for (let i = 0; i < 2; i += 1) backup.expect("POST /v1/chat/completions", garbage());
    const error = await openai.chat.completions
      .create({ model: "main", messages: [] })
      .catch((e) => e);
    expect(error.status).toBe(502);
  });

  it("answers 502 when a translated upstream answers 200 with a body that is not JSON", async () => {
    const notJson = ({ res }: { res: import("node:http").ServerResponse }) => {
      res.writeHead(200, { "content-type": "application/json" }).end("<html>oops</html>");
    };
    anthropicUpstream.expect("POST /v1/messages", notJson);
    anthropicUpstream.expect("POST /v1/messages", notJson);
    const error = await openai.chat.completions
      .create({ model: "claude", messages: [] })
      .catch((e) => e);
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/not valid JSON/);
  });

  it("ends a stream with an error event when the upstream breaks off mid-stream", async () => {
    const events = chatStream({ model: "gpt-4o", pieces: ["one", "two", "three"] });
    primary.expect("POST /v1/chat/completions", async ({ res, req }) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(events[0]);
      res.write(events[1]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      req.socket.destroy();
    });
    const stream = await openai.chat.completions.create({
      model: "main",
      messages: [],
      stream: true,
    });
    const received: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((e) => e);
    expect(received).toContain("one");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
  });

  it("stops the upstream request when the client aborts mid-stream", async () => {
    let release: () => void = () => {};
    const upstreamClosed = new Promise<void>((resolve) => {
      primary.expect("POST /v1/chat/completions", async ({ res }) => {
        res.on("close", () => resolve());
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(chatStream({ model: "gpt-4o", pieces: ["first"] })[1]);
        await new Promise<void>((r) => {
          release = r;
        });
      });
    });
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: "main", messages: [], stream: true },
      { signal: controller.signal },
    );
    for await (const chunk of stream) {
      expect(chunk.choices[0]?.delta.content).toBe("first");
      controller.abort();
    }
    await upstreamClosed;
    release();
  });

  it("sends Anthropic-shaped errors to the Anthropic client", async () => {
    anthropicUpstream.expect(
      "POST /v1/messages",
      json(200, anthropicMessage({ model: "claude", text: "ok" })),
    );
    await anthropic.messages.create({
      model: "claude",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
    });
    const error = await anthropic.messages
      .create({ model: "missing", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(error.error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });
});
