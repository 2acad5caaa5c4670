import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  type DatabricksDoubleOptions,
  DatabricksWorkspaceDouble,
  databricksEvent,
} from "../../test/doubles/databricks-serving.js";
import { collectTurn } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import { RuntimeError } from "../runtime-error.js";
import { DatabricksRuntime } from "./index.js";

const TOKEN = "dapi-secret-unit-token";
const OAUTH = { clientId: "sp-client-id-1", clientSecret: "dose-secret-unit-oauth" };
const env = { DBX_TOKEN: TOKEN, DBX_SECRET: OAUTH.clientSecret, DBX_WRONG: "dose-wrong-secret" };

function failure(error: unknown): RuntimeError {
  expect(error).toBeInstanceOf(RuntimeError);
  const message = (error as Error).message;
  for (const secret of [TOKEN, OAUTH.clientSecret, env.DBX_WRONG]) {
    expect(message).not.toContain(secret);
  }
  return error as RuntimeError;
}

describe("databricks runtime", () => {
  const runtime = new DatabricksRuntime({ egress: loopbackEgress });
  const doubles: DatabricksWorkspaceDouble[] = [];
  afterEach(async () => {
    for (const double of doubles.splice(0)) {
      expect(double.unexpected()).toEqual([]);
      await double.close();
    }
  });
  afterAll(() => runtime.close());

  async function workspace(
    extra: Record<string, unknown> = {},
    options: Partial<DatabricksDoubleOptions> = {},
  ) {
    const double = await DatabricksWorkspaceDouble.start({
      endpoint: "support-agent",
      token: TOKEN,
      oauth: OAUTH,
      ...options,
    });
    doubles.push(double);
    const settings = {
      type: "databricks",
      workspace_url: double.url,
      endpoint: "support-agent",
      auth: { token: { env: "DBX_TOKEN" } },
      stream: false,
      ...extra,
    };
    const turn = (input: string, more: Partial<Parameters<typeof collectTurn>[2]> = {}) =>
      collectTurn(runtime, settings, { sessionId: randomUUID(), input, env, ...more });
    return { double, settings, turn };
  }

  describe("settings", () => {
    const parse = (extra: Record<string, unknown>) =>
      runtime.settings.safeParse({
        type: "databricks",
        workspace_url: "https://dbc-1234abcd-5678.cloud.databricks.com",
        endpoint: "support-agent",
        auth: { token: { secret: "DATABRICKS_TOKEN" } },
        ...extra,
      });
    const message = (extra: Record<string, unknown>) => parse(extra).error?.issues[0]?.message;

    it("takes a token or OAuth credentials as references, with defaults", () => {
      expect(parse({}).data).toMatchObject({
        stream: true,
        memory: "thread",
        timeout_seconds: 300,
      });
      expect(
        parse({ auth: { client_id: "abc", client_secret: { secret: "SP_SECRET" } } }).success,
      ).toBe(true);
    });

    it("says what is wrong in words the owner can act on", () => {
      expect(message({ workspace_url: "dbc-1234" })).toMatch(/URL of the Databricks workspace/);
      expect(message({ auth: { token: "dapi123" } })).toMatch(/personal access token.*client_id/);
      expect(message({ endpoint: "my agent!" })).toMatch(/serving endpoint's name/);
      expect(message({ memory: "forever" })).toMatch(/"thread".*"transcript"/);
      expect(message({ endpoint: undefined })).toMatch(/either a Model Serving endpoint/);
      expect(message({ app_url: "https://a.databricksapps.com" })).toMatch(/one of the two/);
      expect(
        message({ endpoint: undefined, app_url: "https://agent-1.aws.databricksapps.com" }),
      ).toMatch(/apps do not accept personal access tokens/);
    });
  });

  it("sends the message with the thread id, and the second turn on the same thread", async () => {
    const { double, turn } = await workspace();
    const sessionId = randomUUID();
    const first = await turn("hello", { sessionId });
    expect(first.error).toBeUndefined();
    expect(first.text).toBe('You said "hello" (turn 1)');
    expect(first.handle).toEqual({ threadId: sessionId, turns: 1 });
    const second = await turn("again", { sessionId, handle: first.handle });
    expect(second.text).toBe('You said "again" (turn 2)');
    const [a, b] = double.received;
    expect(a?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(a?.body).toEqual({
      input: [{ role: "user", content: "hello" }],
      custom_inputs: { thread_id: sessionId },
      context: { conversation_id: sessionId },
    });
    expect(b?.body.custom_inputs).toEqual({ thread_id: sessionId });
    expect(double.turns().map((t) => t.runtimeSession)).toEqual([sessionId, sessionId]);
  });

  it("books the tokens the agent reports, under the endpoint's name", async () => {
    const { turn } = await workspace();
    const outcome = await turn("count my tokens");
    expect(outcome.events.at(-1)).toEqual({
      type: "usage",
      usage: { model: "support-agent", inputTokens: 12 + 15, outputTokens: 7 },
    });
  });

  it("prices the tokens at the manifest's prices, as an estimate, when it gives them", async () => {
    const { turn, settings } = await workspace({
      token_prices: { input_per_million_usd: 1_000, output_per_million_usd: 10_000 },
    });
    const outcome = await turn("count my tokens");
    expect(outcome.events.at(-1)).toEqual({
      type: "usage",
      usage: {
        model: "support-agent",
        inputTokens: 27,
        outputTokens: 7,
        costUsd: (27 * 1_000 + 7 * 10_000) / 1_000_000,
        costEstimated: true,
      },
    });
    expect(
      runtime.settings.safeParse({ ...settings, token_prices: { input: 1 } }).error?.issues[0]
        ?.message,
    ).toMatch(/input_per_million_usd, output_per_million_usd/);
  });

  it("sends the conversation each turn to a stateless agent (memory: transcript)", async () => {
    const { double, turn } = await workspace({ memory: "transcript" });
    await turn("and now?", {
      transcript: [
        { role: "user", content: "hi" },
        { role: "agent", content: "hello there" },
      ],
    });
    expect(double.received[0]?.body.input).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello there" },
      { role: "user", content: "and now?" },
    ]);
  });

  it("shows the agent's tool calls and reads text from several output items", async () => {
    const { double, turn } = await workspace();
    double.scriptNext((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "response",
          output: [
            {
              type: "function_call",
              id: "fc_1",
              call_id: "call_1",
              name: "system__ai__lookup_order",
              arguments: '{"order":"A-17"}',
            },
            { type: "function_call_output", call_id: "call_1", output: "shipped" },
            {
              type: "message",
              id: "msg_1",
              role: "assistant",
              content: [{ type: "output_text", text: "Order A-17 has shipped." }],
            },
          ],
        }),
      );
    });
    const outcome = await turn("where is my order?");
    expect(outcome.events).toContainEqual({
      type: "tool_use",
      name: "system__ai__lookup_order",
      input: { order: "A-17" },
      id: "call_1",
    });
    expect(outcome.text).toBe("Order A-17 has shipped.");
  });

  describe("failures, in words, without secrets", () => {
    it("says which setting to check on 401, 403 and 404, without retry", async () => {
      const { turn } = await workspace();
      const refused = failure(
        (await turn("hi", { env: { ...env, DBX_TOKEN: "dapi-wrong" } })).error,
      );
      expect(refused.retryable).toBe(false);
      expect(refused.message).toMatch(
        /refused this agent's credentials \(HTTP 401\).*spec\.runtime\.auth/,
      );

      const { turn: missing } = await workspace({ endpoint: "no-such-agent" });
      const notFound = failure((await missing("hi")).error);
      expect(notFound.retryable).toBe(false);
      expect(notFound.message).toMatch(
        /no serving endpoint named no-such-agent \(HTTP 404\).*spec\.runtime\.endpoint/,
      );

      const { double, turn: forbidden } = await workspace();
      double.scriptNext((res) => {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error_code: "PERMISSION_DENIED",
            message: "User does not have permission 'Query' on endpoint.",
          }),
        );
      });
      const denied = failure((await forbidden("hi")).error);
      expect(denied.message).toMatch(/Can Query.*does not have permission 'Query'/);
    });

    it("retries 429 and 5xx but not 400, quoting Databricks' message", async () => {
      const { double, turn } = await workspace();
      for (const [status, code, retryable] of [
        [429, "REQUEST_LIMIT_EXCEEDED", true],
        [500, "INTERNAL_ERROR", true],
        [503, "TEMPORARILY_UNAVAILABLE", true],
        [400, "BAD_REQUEST", false],
      ] as const) {
        double.scriptNext((res) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify({ error_code: code, message: `Databricks says ${code}` }));
        });
        const error = failure((await turn("hi")).error);
        expect(error.retryable).toBe(retryable);
        expect(error.message).toContain(`HTTP ${status}: Databricks says ${code}`);
      }
    });

    it("fails with the agent's own error, and on answers it cannot read", async () => {
      const { double, turn } = await workspace();
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            output: [],
            status: "failed",
            error: { code: "server_error", message: "Vector search index is offline" },
          }),
        );
      });
      const failed = failure((await turn("hi")).error);
      expect(failed.code).toBe("agent_failed");
      expect(failed.message).toContain("Vector search index is offline");

      for (const [type, body, pattern] of [
        ["application/json", "{ nope", /not valid JSON/],
        ["application/json", JSON.stringify({ predictions: ["x"] }), /no output list/],
        ["application/json", JSON.stringify({ output: [] }), /no message with text/],
        ["text/html", "<html>sign in</html>", /text\/html/],
      ] as const) {
        double.scriptNext((res) => {
          res.writeHead(200, { "content-type": type });
          res.end(body);
        });
        const error = failure((await turn("hi")).error);
        expect(error.code).toBe("runtime_bad_response");
        expect(error.message).toMatch(pattern);
      }
    });
  });

  describe("OAuth machine-to-machine", () => {
    const oauth = { client_id: OAUTH.clientId, client_secret: { env: "DBX_SECRET" } };

    it("asks the token endpoint once and reuses the token across turns", async () => {
      const { double, turn } = await workspace({ auth: oauth });
      const first = await turn("one");
      const second = await turn("two", { handle: first.handle });
      expect(second.error).toBeUndefined();
      expect(double.tokenRequests).toEqual(["client_credentials all-apis"]);
      expect(double.received[0]?.headers.authorization).toMatch(/^Bearer eyJ-double-/);
    });

    it("refuses wrong credentials naming the settings, never the secret", async () => {
      const { turn } = await workspace({
        auth: { ...oauth, client_secret: { env: "DBX_WRONG" } },
      });
      const error = failure((await turn("hi")).error);
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/refused the service principal's OAuth credentials.*client_id/);
    });

    it("drops a token the workspace no longer accepts, so the retry gets a fresh one", async () => {
      const { double, turn } = await workspace({ auth: oauth });
      await turn("one");
      double.revokeTokens();
      failure((await turn("two")).error);
      const retried = await turn("two");
      expect(retried.error).toBeUndefined();
      expect(double.tokenRequests).toHaveLength(2);
    });

    it("asks an agent on Databricks Apps at /responses", async () => {
      const { double } = await workspace({}, { app: true });
      const app = await collectTurn(
        runtime,
        {
          type: "databricks",
          workspace_url: double.url,
          app_url: `${double.url}/`,
          auth: oauth,
          stream: false,
        },
        { sessionId: randomUUID(), input: "hello app", env },
      );
      expect(app.error).toBeUndefined();
      expect(app.text).toBe('You said "hello app" (turn 1)');
      expect(app.events.find((e) => e.type === "usage")).toMatchObject({
        usage: { model: "127.0.0.1" },
      });
    });
  });

  describe("streaming", () => {
    it("streams deltas, then the whole answer and usage from response.completed", async () => {
      const { double, turn } = await workspace({ stream: true });
      const sessionId = randomUUID();
      const first = await turn("stream please", { sessionId });
      expect(first.error).toBeUndefined();
      expect(double.received[0]?.body.stream).toBe(true);
      expect(double.received[0]?.headers.accept).toMatch(/text\/event-stream/);
      expect(first.events.filter((e) => e.type === "message_delta").length).toBeGreaterThan(2);
      expect(first.text).toBe('You said "stream please" (turn 1)');
      expect(first.events.some((e) => e.type === "usage")).toBe(true);
      const second = await turn("more", { sessionId, handle: first.handle });
      expect(second.text).toBe('You said "more" (turn 2)');
    });

    it("takes text that arrives only as finished items", async () => {
      const { double, turn } = await workspace({ stream: true });
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const item = (id: string, text: string) => ({
          type: "message",
          id,
          role: "assistant",
          content: [{ type: "output_text", text }],
        });
        res.write(
          databricksEvent({
            type: "response.output_item.done",
            item: item("a", "One."),
            output_index: 0,
          }),
        );
        res.end(
          databricksEvent({
            type: "response.output_item.done",
            item: item("b", "Two."),
            output_index: 1,
          }),
        );
      });
      const outcome = await turn("hi");
      expect(outcome.text).toBe("One.\n\nTwo.");
      expect(outcome.events.filter((e) => e.type === "message_delta")).toHaveLength(2);
    });

    it("fails with the agent's message on an error event", async () => {
      const { double, turn } = await workspace({ stream: true });
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(
          databricksEvent({
            type: "response.output_text.delta",
            item_id: "m",
            delta: "Let me ",
            output_index: 0,
            content_index: 0,
          }),
        );
        res.end(
          databricksEvent({
            type: "error",
            code: "rate_limit_exceeded",
            message: "Foundation model rate limit reached",
          }),
        );
      });
      const outcome = await turn("hi");
      const error = failure(outcome.error);
      expect(error.code).toBe("agent_failed");
      expect(error.message).toContain("Foundation model rate limit reached");
      expect(outcome.events.some((e) => e.type === "message")).toBe(false);
    });

    it("fails as retryable, saying so, when the stream is dropped mid-answer", async () => {
      const { double, turn } = await workspace({ stream: true });
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(
          databricksEvent({
            type: "response.output_text.delta",
            item_id: "m",
            delta: "Half an ",
            output_index: 0,
            content_index: 0,
          }),
        );
        setTimeout(() => res.socket?.destroy(), 20);
      });
      const outcome = await turn("hi");
      const error = failure(outcome.error);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/stream broke off before the answer was complete/);
      expect(outcome.events.some((e) => e.type === "message")).toBe(false);
    });

    it("fails without retry when a stream ends with no text, or an event is not JSON", async () => {
      const { double, turn } = await workspace({ stream: true });
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(databricksEvent({ type: "response.completed", response: { output: [] } }));
      });
      expect(failure((await turn("hi")).error).message).toMatch(/ended without any text/);
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end("data: {not json\n\n");
      });
      expect(failure((await turn("hi")).error).message).toMatch(/not JSON/);
    });

    it("stops reading promptly when the run is cancelled mid-answer", async () => {
      const { double, turn } = await workspace({ stream: true });
      double.holdTurns();
      const controller = new AbortController();
      const started = Date.now();
      const pending = turn("long one", { signal: controller.signal });
      await eventually(async () => expect(double.turns()).toHaveLength(1));
      controller.abort();
      const outcome = await pending;
      expect(outcome.error).toBeUndefined();
      expect(outcome.events.some((e) => e.type === "message")).toBe(false);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
});
