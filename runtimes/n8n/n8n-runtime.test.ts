import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  N8nWebhookDouble,
  type N8nWebhookOptions,
  n8nChunk,
} from "../../test/doubles/n8n-webhook.js";
import { collectTurn } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import { RuntimeError } from "../runtime-error.js";
import { N8nRuntime } from "./index.js";

const AUTH = { header: "X-Workflow-Key", value: "secret-workflow-key" };
const env = { N8N_TEST_KEY: AUTH.value };

function failure(error: unknown): RuntimeError {
  expect(error).toBeInstanceOf(RuntimeError);
  expect((error as Error).message).not.toContain(AUTH.value);
  return error as RuntimeError;
}

describe("n8n runtime", () => {
  const runtime = new N8nRuntime({ egress: loopbackEgress });
  const doubles: N8nWebhookDouble[] = [];
  afterEach(async () => {
    for (const double of doubles.splice(0)) {
      expect(double.unexpected()).toEqual([]);
      await double.close();
    }
  });
  afterAll(() => runtime.close());

  async function workflow(options: Omit<N8nWebhookOptions, "auth">, extra = {}) {
    const double = await N8nWebhookDouble.start({ ...options, auth: AUTH });
    doubles.push(double);
    const settings = {
      type: "n8n",
      webhook_url: double.url,
      response_mode: options.mode,
      auth: { header: AUTH.header, value: { env: "N8N_TEST_KEY" } },
      ...extra,
    };
    const turn = (input: string, more: Partial<Parameters<typeof collectTurn>[2]> = {}) =>
      collectTurn(runtime, settings, { sessionId: randomUUID(), input, env, ...more });
    return { double, settings, turn };
  }

  describe("settings", () => {
    it("says what is wrong: the URL, the response mode, a plain auth value", () => {
      const parse = (extra: Record<string, unknown>) =>
        runtime.settings.safeParse({
          type: "n8n",
          webhook_url: "https://n8n.example.com/webhook/x",
          ...extra,
        });
      expect(parse({}).data?.response_mode).toBe("last_node");
      expect(parse({ webhook_url: "n8n.example.com" }).error?.issues[0]?.message).toMatch(/URL/);
      expect(parse({ response_mode: "stream" }).error?.issues[0]?.message).toMatch(/streaming/);
      const plain = parse({ auth: { header: "X-Key", value: "hunter2" } });
      expect(plain.error?.issues[0]?.message).toMatch(/secret reference/);
    });
  });

  it("sends sessionId, chatInput and the transcript, with the auth header from the environment", async () => {
    const { double, turn } = await workflow({ mode: "last_node" });
    const sessionId = randomUUID();
    const outcome = await turn("hello", {
      sessionId,
      transcript: [{ role: "user", content: "before" }],
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe('You said "hello" (turn 1)');
    const [received] = double.received;
    expect(received?.headers[AUTH.header.toLowerCase()]).toBe(AUTH.value);
    expect(received?.body).toMatchObject({
      action: "sendMessage",
      sessionId,
      chatInput: "hello",
      transcript: [{ role: "user", content: "before" }],
    });
    expect(outcome.handle).toEqual({ sessionId, turns: 1 });
  });

  it("refuses without retry when the auth header is wrong, pointing at the setting", async () => {
    const { turn } = await workflow({ mode: "last_node" });
    const outcome = await turn("hello", { env: { N8N_TEST_KEY: "wrong" } });
    const error = failure(outcome.error);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/HTTP 403.*spec\.runtime\.auth/);
  });

  it("refuses without retry when the webhook is not registered (inactive workflow)", async () => {
    const { double, turn } = await workflow({ mode: "last_node" });
    double.deactivate();
    const error = failure((await turn("hello")).error);
    expect(error.retryable).toBe(false);
    expect(error.code).toBe("runtime_rejected");
    expect(error.message).toMatch(/not registered.*not active/);
  });

  it("retries 5xx but not 4xx", async () => {
    const { double, turn } = await workflow({ mode: "last_node" });
    for (const [status, retryable] of [
      [500, true],
      [502, true],
      [400, false],
    ] as const) {
      double.scriptNext((res) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: status === 500 ? "Error in workflow" : "Bad input" }));
      });
      const error = failure((await turn("hello")).error);
      expect(error.retryable).toBe(retryable);
      expect(error.message).toContain(`HTTP ${status}`);
    }
  });

  it("fails with the workflow's own message when the last node is an error item", async () => {
    const { double, turn } = await workflow({ mode: "last_node" });
    double.scriptNext((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify([{ error: { message: "The OpenAI credential is invalid" } }]));
    });
    const error = failure((await turn("hello")).error);
    expect(error.code).toBe("agent_failed");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("The OpenAI credential is invalid");
  });

  it("finds the text in the usual fields, in a list of items too", async () => {
    const { double, turn } = await workflow({ mode: "last_node" });
    const replies: Array<[unknown, string]> = [
      [{ text: "from a chain" }, "from a chain"],
      [{ sessionId: "x", chatInput: "echo", reply: "first string field" }, "first string field"],
      [[{ output: "one" }, { output: "two" }], "one\n\ntwo"],
      ["a bare string", "a bare string"],
    ];
    for (const [body, text] of replies) {
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(body));
      });
      const outcome = await turn("hello");
      expect(outcome.error).toBeUndefined();
      expect(outcome.text).toBe(text);
    }
  });

  it("fails without retry on answers it cannot read, saying what to change", async () => {
    const { double, turn } = await workflow({ mode: "last_node" });
    const cases: Array<[string, string, RegExp]> = [
      ["application/json", "{ not json", /not valid JSON/],
      ["application/json", "", /no data/],
      ["application/json", JSON.stringify({ count: 3 }), /no text/],
      ["application/json", JSON.stringify({ message: "Workflow was started" }), /Respond option/],
      ["text/html", "<html>n8n sign-in</html>", /text\/html/],
      ["text/plain", "plain text where JSON was expected", /JSON was expected/],
    ];
    for (const [type, body, message] of cases) {
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": type });
        res.end(body);
      });
      const error = failure((await turn("hello")).error);
      expect(error.code).toBe("runtime_bad_response");
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(message);
    }
  });

  it("fails as retryable when the workflow takes longer than timeout_seconds", async () => {
    const { double, turn } = await workflow({ mode: "last_node" }, { timeout_seconds: 1 });
    double.scriptNext(() => {});
    const started = Date.now();
    const error = failure((await turn("slow")).error);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/within 1 seconds/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("keeps the session id the workflow answers with", async () => {
    const { double, turn } = await workflow({ mode: "last_node" });
    double.scriptNext((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ output: "hi", sessionId: "crm-contact-42", turn: 1 }));
    });
    const first = await turn("hello");
    expect(first.handle).toEqual({ sessionId: "crm-contact-42", turns: 1 });
    double.scriptNext((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ output: "hi again", turn: 2 }));
    });
    const second = await turn("again", { handle: first.handle });
    expect(double.received.map((r) => r.body.sessionId)).toEqual([
      first.events[0]?.type === "handle" && first.events[0].handle.sessionId,
      "crm-contact-42",
    ]);
    expect(second.handle).toEqual({ sessionId: "crm-contact-42", turns: 2 });
  });

  it("takes a Respond to Webhook node's plain text, counting turns itself", async () => {
    const { turn } = await workflow({ mode: "respond_to_webhook", plainText: true });
    const sessionId = randomUUID();
    const first = await turn("one", { sessionId });
    expect(first.text).toBe('You said "one" (turn 1)');
    const second = await turn("two", { sessionId, handle: first.handle });
    expect(second.text).toBe('You said "two" (turn 2)');
    expect(second.handle).toEqual({ sessionId, turns: 2 });
  });

  it("cannot notice a lost memory when the workflow does not report its turn", async () => {
    const { double, turn } = await workflow({ mode: "last_node", reportsTurn: false });
    const sessionId = randomUUID();
    const first = await turn("remember 42", { sessionId });
    double.forgetSessions();
    const second = await turn("which number?", { sessionId, handle: first.handle });
    // Documented in README.md: the workflow must report `turn` for this to be detected.
    expect(second.events.some((e) => e.type === "status")).toBe(false);
    expect(second.text).toBe('You said "which number?" (turn 1)');
  });

  describe("streaming", () => {
    it("streams n8n's item chunks as deltas and continues the session", async () => {
      const { double, turn } = await workflow({ mode: "streaming" });
      const sessionId = randomUUID();
      const first = await turn("stream please", { sessionId });
      expect(first.error).toBeUndefined();
      const deltas = first.events.filter((e) => e.type === "message_delta");
      expect(deltas.length).toBeGreaterThan(2);
      expect(first.events[0]?.type).toBe("handle");
      expect(first.text).toBe('You said "stream please" (turn 1)');
      const second = await turn("more", { sessionId, handle: first.handle });
      expect(second.text).toBe('You said "more" (turn 2)');
      expect(double.turns().map((t) => t.runtimeSession)).toEqual([sessionId, sessionId]);
    });

    it("fails with the workflow's message on an error chunk", async () => {
      const { double, turn } = await workflow({ mode: "streaming" });
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.write(n8nChunk("begin"));
        res.write(n8nChunk("item", "Let me "));
        res.end(n8nChunk("error", "Model rate limit reached"));
      });
      const outcome = await turn("hello");
      const error = failure(outcome.error);
      expect(error.code).toBe("agent_failed");
      expect(error.message).toContain("Model rate limit reached");
      expect(outcome.events.some((e) => e.type === "message")).toBe(false);
    });

    it("fails without retry on a line that is not JSON, or a wrong content type", async () => {
      const { double, turn } = await workflow({ mode: "streaming" });
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(`${n8nChunk("begin")}{"type":"item","content":"trunc\n`);
      });
      const malformed = failure((await turn("hello")).error);
      expect(malformed.code).toBe("runtime_bad_response");
      expect(malformed.message).toMatch(/not JSON/);

      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html></html>");
      });
      expect(failure((await turn("hello")).error).message).toMatch(/text\/html/);
    });

    it("reads a workflow that streamed nothing and sent its result as JSON", async () => {
      const { double, turn } = await workflow({ mode: "streaming" });
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ output: "not streamed after all" }));
      });
      const outcome = await turn("hello");
      expect(outcome.error).toBeUndefined();
      expect(outcome.text).toBe("not streamed after all");
    });

    it("stops reading promptly when the run is cancelled mid-answer", async () => {
      const { double, turn } = await workflow({ mode: "streaming" });
      double.scriptNext((res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write(n8nChunk("begin"));
        res.write(n8nChunk("item", "Working on "));
        // ...and never finishes, as a long agent run would.
      });
      const controller = new AbortController();
      const started = Date.now();
      const pending = turn("a long task", {
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === "message_delta") controller.abort();
        },
      });
      const outcome = await pending;
      expect(outcome.error).toBeUndefined();
      expect(outcome.events.some((e) => e.type === "message")).toBe(false);
      expect(Date.now() - started).toBeLessThan(5_000);
      await eventually(async () => expect(double.received).toHaveLength(1));
    });
  });
});
