import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningProxy } from "../../proxy/index.js";
import { MASTER_KEY, oneModel, startTestProxy } from "../../proxy/testing/test-proxy.js";
import { anthropicMessage, anthropicStream } from "../doubles/anthropic-wire.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "../doubles/loopback-server.js";
import { chatCompletion, chatStream } from "../doubles/openai-wire.js";
import { sseEvent } from "../doubles/upstream-double.js";
import {
  answerProblem,
  bodyText,
  FUZZ_SEED,
  fuzzRuns,
  nastyJson,
  nastyString,
  percentEncode,
  toJsonText,
} from "./arbitraries.js";

/**
 * The model proxy's request parsing given generated calls on every endpoint, in both
 * dialects: bodies shaped like OpenAI's and Anthropic's with bad leaves (NUL, half surrogate
 * pairs, 1e309, wrong types), any JSON, deep and huge bodies, wrong keys and headers. The
 * providers behind it answer every call they get well, so any 5xx is the proxy's own: every
 * answer is a success or a 4xx in words, within 15 s, and the proxy keeps serving.
 */

const REQUEST_TIMEOUT_MS = 15_000;
const PATHS = [
  "/v1/chat/completions",
  "/chat/completions",
  "/v1/responses",
  "/v1/embeddings",
  "/v1/messages",
  "/v1/messages/count_tokens",
  "/v1/models",
];

/** A provider that answers every call it gets, in its own wire format, streaming when asked. */
async function wellBehavedProvider(): Promise<LoopbackServer> {
  return startLoopbackServer((req, res) => {
    void readBody(req).then((raw) => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // the proxy sent something that is not JSON: answered like any other
      }
      const model = typeof body.model === "string" ? body.model : "model";
      const path = (req.url ?? "").split("?")[0] ?? "";
      const reply = (status: number, value: unknown, type = "application/json") => {
        res.writeHead(status, { "content-type": type });
        res.end(typeof value === "string" ? value : JSON.stringify(value));
      };
      if (path.endsWith("/messages/count_tokens")) return reply(200, { input_tokens: 7 });
      if (path.endsWith("/messages")) {
        return body.stream === true
          ? reply(200, anthropicStream({ model, pieces: ["hi"] }).join(""), "text/event-stream")
          : reply(200, anthropicMessage({ model, text: "hi" }));
      }
      if (path.endsWith("/embeddings")) {
        return reply(200, {
          object: "list",
          data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
          model,
          usage: { prompt_tokens: 3, total_tokens: 3 },
        });
      }
      if (path.endsWith("/responses")) {
        const response = {
          id: "resp_1",
          object: "response",
          status: "completed",
          model,
          output: [
            { type: "message", role: "assistant", content: [{ type: "output_text", text: "hi" }] },
          ],
          usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
        };
        return body.stream === true
          ? reply(
              200,
              sseEvent({ type: "response.completed", response }, "response.completed"),
              "text/event-stream",
            )
          : reply(200, response);
      }
      return body.stream === true
        ? reply(
            200,
            chatStream({ model, pieces: ["hi"], includeUsage: true }).join(""),
            "text/event-stream",
          )
        : reply(200, chatCompletion({ model, content: "hi" }));
    });
  });
}

describe("generated calls to the model proxy", () => {
  let openaiProvider: LoopbackServer;
  let anthropicProvider: LoopbackServer;
  let proxy: RunningProxy;

  beforeAll(async () => {
    openaiProvider = await wellBehavedProvider();
    anthropicProvider = await wellBehavedProvider();
    proxy = await startTestProxy({
      model_list: [
        oneModel("gpt", "openai/gpt-4o", `${openaiProvider.url}/v1`),
        oneModel("claude", "anthropic/claude-sonnet-4-20250514", anthropicProvider.url),
      ],
      general_settings: { master_key: MASTER_KEY, max_request_size_mb: 1 },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([openaiProvider?.close(), anthropicProvider?.close()]);
  });

  const model = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("gpt", "claude") },
    { weight: 1, arbitrary: nastyString },
  );
  const content = fc.oneof(
    nastyString,
    fc.array(
      fc.record(
        {
          type: fc.oneof(
            fc.constantFrom("text", "image_url", "tool_use", "tool_result", "image"),
            nastyString,
          ),
          text: nastyString,
          image_url: nastyJson,
          source: nastyJson,
          id: nastyString,
          input: nastyJson,
          content: nastyJson,
        },
        { requiredKeys: ["type"] },
      ),
      { maxLength: 3 },
    ),
    nastyJson,
  );
  const message = fc.record(
    {
      role: fc.oneof(
        fc.constantFrom("user", "assistant", "system", "tool", "developer"),
        nastyString,
      ),
      content,
      tool_calls: nastyJson,
      tool_call_id: nastyString,
      name: nastyString,
    },
    { requiredKeys: ["role"] },
  );
  const call = fc.record(
    {
      model,
      messages: fc.oneof(
        { weight: 5, arbitrary: fc.array(message, { minLength: 1, maxLength: 3 }) },
        { weight: 1, arbitrary: nastyJson },
      ),
      input: fc.oneof(nastyString, fc.array(nastyString, { maxLength: 2 }), nastyJson),
      stream: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: nastyJson }),
      stream_options: fc.oneof(fc.constant({ include_usage: true }), nastyJson),
      max_tokens: fc.oneof(fc.integer({ min: 1, max: 1000 }), nastyJson),
      temperature: nastyJson,
      tools: nastyJson,
      tool_choice: nastyJson,
      system: fc.oneof(nastyString, nastyJson),
      metadata: nastyJson,
      user: nastyString,
      n: nastyJson,
    },
    { requiredKeys: ["model"] },
  );

  it("answers every generated call with a success or a 4xx in words, and keeps serving", async () => {
    const request = fc.record({
      path: fc.constantFrom(...PATHS),
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant("POST") },
        { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE") },
      ),
      body: bodyText(call),
      auth: fc.oneof(
        { weight: 6, arbitrary: fc.constant({ authorization: `Bearer ${MASTER_KEY}` }) },
        {
          weight: 2,
          arbitrary: fc.constant({ "x-api-key": MASTER_KEY, "anthropic-version": "2023-06-01" }),
        },
        {
          weight: 1,
          arbitrary: nastyString.map((key) => ({
            authorization: `Bearer ${percentEncode(key)}`,
          })),
        },
      ),
      contentType: fc.oneof(
        { weight: 6, arbitrary: fc.constant("application/json") },
        { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/json; charset=latin1") },
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        let response: Response;
        try {
          response = await fetch(`${proxy.url}${r.path}`, {
            method: r.method,
            headers: { "content-type": r.contentType, ...r.auth },
            body: r.method === "GET" ? undefined : r.body,
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
        } catch (error) {
          expect.fail(`${r.method} ${r.path}: no answer (${(error as Error).message})`);
        }
        const text = await response.text();
        expect(
          answerProblem(response.status, text),
          `${r.method} ${r.path} ${r.body.slice(0, 300)}`,
        ).toBeUndefined();
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(400), endOnFailure: true },
    );
    const models = await fetch(`${proxy.url}/v1/models`, {
      headers: { authorization: `Bearer ${MASTER_KEY}` },
    });
    expect(models.status).toBe(200);
    expect(toJsonText(await models.json())).toContain("gpt");
  });
});
