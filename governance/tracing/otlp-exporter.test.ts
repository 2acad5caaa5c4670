import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OtlpReceiverDouble } from "../../test/doubles/otlp-receiver.js";
import {
  modelCallSpan,
  OtlpAgentTracer,
  OtlpTraceExporter,
  runSpan,
  runSpanId,
  traceIdOfRun,
  tracesUrl,
} from "../index.js";

/** The OTLP/HTTP exporter and the GenAI spans it carries, against a local receiver double. */

const RUN_ID = "0f8fad5b-d9cb-469f-a165-70867728950e";
let receiver: OtlpReceiverDouble;
const logged: string[] = [];
const logger = pino(
  { level: "info" },
  { write: (line: string) => logged.push(JSON.parse(line).msg as string) },
);

beforeAll(async () => {
  receiver = await OtlpReceiverDouble.start();
});
afterAll(async () => {
  expect(receiver.unexpected).toEqual([]);
  await receiver.close();
});

function exporter() {
  return new OtlpTraceExporter({
    endpoint: `${receiver.url}/`,
    serviceName: "switchboard",
    logger,
    flushIntervalMs: 60_000,
  });
}

describe("the OTLP trace exporter", () => {
  it("posts to the endpoint's /v1/traces", () => {
    expect(tracesUrl("http://collector:4318")).toBe("http://collector:4318/v1/traces");
    expect(tracesUrl("http://collector:4318/")).toBe("http://collector:4318/v1/traces");
  });

  it("sends a run and its model call as one trace, the call a child of the run", async () => {
    const out = exporter();
    const tracer = new OtlpAgentTracer(out);
    tracer.runEnded({
      runId: RUN_ID,
      agentId: "a1",
      agentName: "researcher",
      runtime: "http",
      sessionId: "s1",
      surface: "api",
      attempt: 1,
      startedAt: new Date("2026-11-24T10:00:00.000Z"),
      endedAt: new Date("2026-11-24T10:00:02.500Z"),
      status: "failed",
      errorCode: "timeout",
      usage: [{ model: "claude-sonnet", inputTokens: 100, outputTokens: 20 }],
      costUsd: 0.0125,
    });
    tracer.modelCallEnded({
      requestId: "req-1",
      runId: RUN_ID,
      agentId: "a1",
      endpoint: "chat/completions",
      provider: "bedrock",
      requestModel: "small",
      responseModel: "anthropic.claude-3-haiku",
      serverAddress: "bedrock-runtime.us-east-1.amazonaws.com",
      startMs: Date.parse("2026-11-24T10:00:00.500Z") + 0.25,
      endMs: Date.parse("2026-11-24T10:00:01.000Z"),
      status: 200,
      inputTokens: 1200,
      outputTokens: 300,
      costUsd: 0.0009,
    });
    await out.close();
    const [run, call] = receiver.spans;
    expect(run).toEqual({
      service: "switchboard",
      traceId: "0f8fad5bd9cb469fa16570867728950e",
      spanId: runSpanId(RUN_ID),
      name: "invoke_agent researcher",
      kind: 3,
      startTimeUnixNano: "1795514400000000000",
      endTimeUnixNano: "1795514402500000000",
      attributes: {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.id": "a1",
        "gen_ai.agent.name": "researcher",
        "gen_ai.conversation.id": "s1",
        "gen_ai.request.model": "claude-sonnet",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
        "error.type": "timeout",
        "switchboard.run.id": RUN_ID,
        "switchboard.run.status": "failed",
        "switchboard.run.attempt": 1,
        "switchboard.runtime": "http",
        "switchboard.surface": "api",
        "switchboard.cost_usd": 0.0125,
      },
      status: { code: 2, message: "timeout" },
    });
    expect(call).toMatchObject({
      traceId: run?.traceId,
      parentSpanId: run?.spanId,
      name: "chat small",
      kind: 3,
      startTimeUnixNano: "1795514400500250000",
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.system": "aws.bedrock",
        "gen_ai.request.model": "small",
        "gen_ai.response.model": "anthropic.claude-3-haiku",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
        "server.address": "bedrock-runtime.us-east-1.amazonaws.com",
        "http.response.status_code": 200,
      },
      status: { code: 0 },
    });
    expect(call?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(call?.attributes["error.type"]).toBeUndefined();
  });

  it("marks a refused model call as an error, and one without a run as a trace of its own", () => {
    const span = modelCallSpan({
      requestId: "r",
      runId: null,
      agentId: null,
      endpoint: "embeddings",
      provider: "openai",
      requestModel: "embed",
      startMs: 1,
      endMs: 2,
      status: 429,
    });
    expect(span).toMatchObject({
      name: "embeddings embed",
      parentSpanId: undefined,
      error: "the call was answered 429",
      attributes: { "error.type": "429", "gen_ai.operation.name": "embeddings" },
    });
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.traceId).not.toBe(traceIdOfRun(RUN_ID));
    const ok = runSpan({
      runId: "not-a-uuid",
      agentId: "a",
      runtime: null,
      sessionId: "s",
      surface: "slack",
      attempt: 0,
      startedAt: new Date(0),
      endedAt: new Date(1),
      status: "succeeded",
      usage: [],
      costUsd: 0,
    });
    expect(ok.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ok.error).toBeUndefined();
    expect(ok.attributes["gen_ai.usage.input_tokens"]).toBeUndefined();
  });

  it("drops a batch the collector refuses, says so once, and sends the next when it is back", async () => {
    const before = receiver.spans.length;
    receiver.refuseNext(2);
    const out = exporter();
    const span = (n: number) =>
      modelCallSpan({
        requestId: `q${n}`,
        runId: null,
        agentId: null,
        endpoint: "messages",
        provider: "anthropic",
        requestModel: "m",
        startMs: 1,
        endMs: 2,
        status: 200,
      });
    out.export(span(1));
    await out.flush();
    out.export(span(2));
    await out.flush();
    expect(receiver.spans.length).toBe(before);
    expect(logged.filter((line) => /trace export/.test(line))).toHaveLength(1);
    out.export(span(3));
    await out.close();
    expect(receiver.spans.slice(before).map((s) => s.attributes["switchboard.request.id"])).toEqual(
      ["q3"],
    );
    expect(logged.filter((line) => /trace export/.test(line))).toEqual([
      "trace export: unavailable; retrying",
      "trace export: back",
    ]);
  });

  it("sends in batches, and keeps no more than its queue holds while waiting", async () => {
    const before = receiver.requests;
    const out = new OtlpTraceExporter({
      endpoint: receiver.url,
      serviceName: "switchboard",
      logger,
      flushIntervalMs: 60_000,
      batchSize: 2,
      maxQueued: 3,
    });
    for (let n = 0; n < 3; n += 1) {
      out.export(
        modelCallSpan({
          requestId: `b${n}`,
          runId: null,
          agentId: null,
          endpoint: "messages",
          provider: "anthropic",
          requestModel: "m",
          startMs: 1,
          endMs: 2,
          status: 200,
        }),
      );
    }
    await out.close();
    expect(receiver.requests - before).toBe(2);
  });
});
