import { randomBytes } from "node:crypto";
import type { OtlpTraceExporter } from "./otlp-exporter.js";
import { type FinishedSpan, runSpanId, traceIdOfRun } from "./otlp-span.js";

/**
 * Spans of agent work after the OpenTelemetry semantic conventions for generative AI
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/): a run is an `invoke_agent` span, a
 * model call through the proxy a `chat` (or `text_completion`, `embeddings`) span. A run's
 * trace id is its id, and its span id is derived from it, so the proxy, in another process,
 * makes its calls children of the run they were made for without passing context along.
 * Never the prompt or the answer: who, what, how long, how many tokens, what it cost.
 */

/** A run, once it ended. */
export interface RunTrace {
  runId: string;
  agentId: string;
  agentName?: string | undefined;
  runtime: string | null;
  sessionId: string;
  surface: string;
  attempt: number;
  startedAt: Date;
  endedAt: Date;
  status: "succeeded" | "failed" | "cancelled";
  errorCode?: string | undefined;
  usage: readonly { model?: string | undefined; inputTokens: number; outputTokens: number }[];
  costUsd: number;
}

/** A model call through the proxy, once it was answered. */
export interface ModelCallTrace {
  requestId: string;
  /** The run whose key made the call, when a run's key did. */
  runId: string | null;
  agentId: string | null;
  /** The proxy's endpoint: `chat/completions`, `messages`, `embeddings`, `completions`. */
  endpoint: string;
  /** The provider that answered: openai, anthropic, azure, bedrock. */
  provider: string | undefined;
  requestModel: string;
  /** The deployment's upstream model, when one answered. */
  responseModel?: string | undefined;
  serverAddress?: string | undefined;
  startMs: number;
  endMs: number;
  /** The HTTP status answered to the caller. */
  status: number;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  costUsd?: number | undefined;
}

/** Provider names as the conventions spell them (`gen_ai.provider.name`). */
const PROVIDERS: Record<string, string> = {
  openai: "openai",
  anthropic: "anthropic",
  azure: "azure.ai.openai",
  bedrock: "aws.bedrock",
};

function operationOf(endpoint: string): string {
  if (endpoint.includes("embeddings")) return "embeddings";
  if (
    endpoint === "completions" ||
    (endpoint.endsWith("/completions") && !endpoint.includes("chat"))
  ) {
    return "text_completion";
  }
  return "chat";
}

export function runSpan(run: RunTrace): FinishedSpan {
  const models = [...new Set(run.usage.map((u) => u.model).filter(Boolean))];
  const sum = (pick: (u: RunTrace["usage"][number]) => number) =>
    run.usage.reduce((total, u) => total + pick(u), 0);
  const name = run.agentName ?? run.agentId;
  return {
    traceId: traceIdOfRun(run.runId),
    spanId: runSpanId(run.runId),
    name: `invoke_agent ${name}`,
    kind: "client",
    startMs: run.startedAt.getTime(),
    endMs: run.endedAt.getTime(),
    attributes: {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.id": run.agentId,
      "gen_ai.agent.name": run.agentName,
      "gen_ai.conversation.id": run.sessionId,
      "gen_ai.request.model": models.length === 1 ? models[0] : undefined,
      "gen_ai.usage.input_tokens": run.usage.length > 0 ? sum((u) => u.inputTokens) : undefined,
      "gen_ai.usage.output_tokens": run.usage.length > 0 ? sum((u) => u.outputTokens) : undefined,
      "error.type": run.status === "failed" ? (run.errorCode ?? "_OTHER") : undefined,
      "switchboard.run.id": run.runId,
      "switchboard.run.status": run.status,
      "switchboard.run.attempt": run.attempt,
      "switchboard.runtime": run.runtime ?? undefined,
      "switchboard.surface": run.surface,
      "switchboard.cost_usd": run.costUsd,
    },
    error: run.status === "failed" ? (run.errorCode ?? "failed") : undefined,
  };
}

export function modelCallSpan(call: ModelCallTrace): FinishedSpan {
  const operation = operationOf(call.endpoint);
  const failed = call.status >= 400 || call.status === 0;
  const provider = call.provider ? (PROVIDERS[call.provider] ?? call.provider) : undefined;
  return {
    traceId: call.runId ? traceIdOfRun(call.runId) : randomBytes(16).toString("hex"),
    spanId: randomBytes(8).toString("hex"),
    parentSpanId: call.runId ? runSpanId(call.runId) : undefined,
    name: `${operation} ${call.requestModel}`,
    kind: "client",
    startMs: call.startMs,
    endMs: call.endMs,
    attributes: {
      "gen_ai.operation.name": operation,
      "gen_ai.provider.name": provider,
      // The name before `gen_ai.provider.name`, for backends that still read it.
      "gen_ai.system": provider,
      "gen_ai.request.model": call.requestModel,
      "gen_ai.response.model": call.responseModel,
      "gen_ai.usage.input_tokens": call.inputTokens,
      "gen_ai.usage.output_tokens": call.outputTokens,
      "gen_ai.agent.id": call.agentId ?? undefined,
      "server.address": call.serverAddress,
      "http.response.status_code": call.status || undefined,
      "error.type": failed ? (call.status ? String(call.status) : "_OTHER") : undefined,
      "switchboard.request.id": call.requestId,
      "switchboard.run.id": call.runId ?? undefined,
      "switchboard.cost_usd": call.costUsd,
    },
    error: failed ? `the call was answered ${call.status || "with no status"}` : undefined,
  };
}

/** What the runs engine and the proxy call: each ended run or call becomes a span. */
export interface AgentTracer {
  runEnded(run: RunTrace): void;
  modelCallEnded(call: ModelCallTrace): void;
}

/** Traces to an OTLP collector. */
export class OtlpAgentTracer implements AgentTracer {
  constructor(private readonly exporter: OtlpTraceExporter) {}
  runEnded(run: RunTrace): void {
    this.exporter.export(runSpan(run));
  }
  modelCallEnded(call: ModelCallTrace): void {
    this.exporter.export(modelCallSpan(call));
  }
}
