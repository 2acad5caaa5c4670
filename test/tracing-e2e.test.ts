import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSpanId } from "../governance/index.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./doubles/loopback-server.js";
import { chatCompletion } from "./doubles/openai-wire.js";
import { OtlpReceiverDouble } from "./doubles/otlp-receiver.js";
import { json, UpstreamDouble } from "./doubles/upstream-double.js";
import { eventually } from "./support/eventually.js";
import { type JsonBody, readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { writeProxyConfig } from "./support/proxy-config.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * Traces of agent work, end to end: `switchboard serve --proxy-config` with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointed at a local OTLP receiver double. An agent's run calls a
 * model through the proxy; the collector receives the run's `invoke_agent` span and the
 * call's `chat` span in one trace (the call the run's child), with the GenAI attributes, and
 * neither the request nor the answer.
 */

const dir = mkdtempSync(join(tmpdir(), "switchboard-tracing-"));
const PROMPT = "What is the secret plan?";
const ANSWER = "forty-two-and-a-half";
let database: TestDatabase;
let upstream: UpstreamDouble;
let receiver: OtlpReceiverDouble;
let agent: LoopbackServer;
let serve: SwitchboardProcess;
let base: string;
let apiKey: string;

async function startAgent(): Promise<LoopbackServer> {
  return startLoopbackServer((req, res) => {
    void (async () => {
      const turn = JSON.parse(await readBody(req)) as JsonBody;
      const client = new OpenAI({
        baseURL: `${turn.model_proxy.base_url}/v1`,
        apiKey: turn.model_proxy.api_key,
        maxRetries: 0,
      });
      const completion = await client.chat.completions.create({
        model: "small",
        messages: [{ role: "user", content: turn.input }],
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ output: `${completion.choices[0]?.message.content}` }));
    })().catch((error) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: String(error) }));
    });
  });
}

beforeAll(async () => {
  database = await createTestDatabase("tracing");
  upstream = await UpstreamDouble.start("openai");
  receiver = await OtlpReceiverDouble.start();
  agent = await startAgent();
  const proxyConfig = writeProxyConfig(join(dir, "proxy.yaml"), upstream.url);
  writeFileSync(
    join(dir, "agent.yaml"),
    [
      "apiVersion: switchboard/v1",
      "kind: Agent",
      "metadata: { name: researcher, title: Researcher, owner: team:research }",
      "spec:",
      `  runtime: { type: http, url: "${agent.url}/turn" }`,
      "  access: { view: ['user:*'], run: ['user:*'] }",
    ].join("\n"),
  );
  const env = {
    DATABASE_URL: database.url,
    LOG_LEVEL: "warn",
    UPSTREAM_KEY: "upstream-secret",
    RUNTIME_EGRESS_ALLOW: "127.0.0.1",
  };
  expect((await runSwitchboard(["agents", "apply", join(dir, "agent.yaml")], env)).code).toBe(0);
  const created = await runSwitchboard(["keys", "create", "--user", "ada@example.com"], env);
  apiKey = created.stdout.trim().split("\n").at(-1) ?? "";
  const [port, proxyPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  serve = new SwitchboardProcess(
    ["serve", "--proxy-config", proxyConfig, "--proxy-port", String(proxyPort)],
    { ...env, PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
  );
  await serve.waitFor(`${base}/readyz`, 90_000);
}, 180_000);

afterAll(async () => {
  serve?.signal("SIGTERM");
  await serve?.exited;
  await agent?.close();
  expect(upstream.unexpected).toEqual([]);
  expect(receiver.unexpected).toEqual([]);
  await upstream?.close();
  await receiver?.close();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("traces of a run and its model calls", { timeout: 120_000 }, () => {
  it("reach the collector as one trace, the model call the run's child", async () => {
    upstream.expect(
      "POST /v1/chat/completions",
      json(
        200,
        chatCompletion({
          model: "gpt-4o-mini",
          content: ANSWER,
          promptTokens: 1200,
          completionTokens: 300,
        }),
      ),
    );
    const started = await fetch(`${base}/api/v1/agents/researcher/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ input: PROMPT }),
    });
    const run = await readJson(started);
    expect(started.status).toBe(201);
    const traceId = String(run.id).replace(/-/g, "");
    const [runSpan, callSpan] = await eventually(async () => {
      const mine = receiver.spans.filter((span) => span.traceId === traceId);
      const found = [
        mine.find((span) => span.name === "invoke_agent researcher"),
        mine.find((span) => span.name === "chat small"),
      ];
      expect(found.every(Boolean)).toBe(true);
      return found;
    }, 30_000);
    expect(runSpan).toMatchObject({
      service: "switchboard",
      spanId: runSpanId(run.id),
      kind: 3,
      attributes: {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "researcher",
        "gen_ai.conversation.id": run.session_id,
        "switchboard.run.status": "succeeded",
        "switchboard.runtime": "http",
        "switchboard.surface": "api",
      },
      status: { code: 0 },
    });
    expect(callSpan).toMatchObject({
      parentSpanId: runSpanId(run.id),
      kind: 3,
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "small",
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
        "server.address": "127.0.0.1",
        "http.response.status_code": 200,
        "switchboard.run.id": run.id,
      },
    });
    // The call happened inside the run.
    const times = (span: typeof runSpan) => [
      BigInt(span?.startTimeUnixNano ?? 0),
      BigInt(span?.endTimeUnixNano ?? 0),
    ];
    const [runStart, runEnd] = times(runSpan);
    const [callStart, callEnd] = times(callSpan);
    expect(callStart >= (runStart as bigint) && callEnd <= (runEnd as bigint)).toBe(true);
    // Who, what, how long: never what was asked or answered, nor a key.
    const sent = receiver.bodies.join("\n");
    for (const text of [PROMPT, ANSWER, "upstream-secret", "sk-"]) expect(sent).not.toContain(text);
  });
});
