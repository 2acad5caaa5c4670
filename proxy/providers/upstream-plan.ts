import type { Deployment } from "../config/deployments.js";
import type { ClientDialect } from "../errors.js";
import type { TokenUsage } from "../spend/usage.js";
import type { Json } from "../translate/json.js";
import type { SseEvent } from "../translate/sse.js";
import type { StreamTranslator } from "../translate/stream-translator.js";

/** Splits an upstream's streamed bytes into events: SSE for most, AWS event stream for Bedrock. */
export interface EventFramer {
  push(chunk: Buffer): SseEvent[];
  end(): SseEvent[];
}

/** The client-facing endpoints; each speaks one dialect. */
export type EndpointKind = "chat" | "responses" | "embeddings" | "messages" | "count_tokens";

export const ENDPOINT_DIALECT: Record<EndpointKind, ClientDialect> = {
  chat: "openai",
  responses: "openai",
  embeddings: "openai",
  messages: "anthropic",
  count_tokens: "anthropic",
};

/** What the client sent, parsed once. */
export interface ClientCall {
  endpoint: EndpointKind;
  /** The model group the client asked for (the body's `model`). */
  modelName: string;
  /** The parsed JSON body. */
  body: Json;
  /** The body's bytes as received: forwarded unchanged when nothing in it needs rewriting. */
  raw: Buffer;
  stream: boolean;
  /** `anthropic-version` and `anthropic-beta` as the client sent them. */
  anthropicVersion: string | undefined;
  anthropicBeta: string | undefined;
}

export interface UpstreamRequest {
  origin: string;
  path: string;
  method: "POST";
  headers: Record<string, string>;
  body: string | Buffer;
}

/**
 * How one attempt goes: what to send the deployment, and how its answer becomes the
 * client's. `translateJson` / `streamTranslator` are set when the dialects differ; without
 * them the body passes through byte for byte and usage is read on the side.
 *
 * Plans are made per attempt, so the builders write every field out rather than spreading
 * a shared base: on Node 20 `{ ...base, more }` takes V8's slow path (measured at several
 * microseconds a plan, more than the rest of the call's routing together).
 */
export interface UpstreamPlan {
  request: UpstreamRequest;
  /** The dialect of the upstream's error bodies (passed through when it is the client's). */
  upstreamDialect: ClientDialect | "bedrock";
  translateJson: ((json: Json) => Json) | undefined;
  streamTranslator: (() => StreamTranslator) | undefined;
  /** How the upstream frames a stream; SSE when unset. */
  streamFramer: (() => EventFramer) | undefined;
  /** Usage in a complete JSON answer, in the upstream's shape. */
  usageFromJson: (json: Json) => TokenUsage | null;
  /** Usage in one streamed event (already JSON-parsed), in the upstream's shape. */
  usageFromEvent: (json: Json) => TokenUsage | null;
  /** We asked for streamed usage the client did not: the usage-only chunk is dropped. */
  dropUsageChunk: boolean;
}

export type PlanBuilder = (
  call: ClientCall,
  deployment: Deployment,
) => UpstreamPlan | Promise<UpstreamPlan>;

/** The body with the upstream's model id, re-serialized only when something changed. */
export function withModel(call: ClientCall, model: string, changed = false): string | Buffer {
  if (!changed && call.body.model === model) return call.raw;
  return JSON.stringify(withFields(call.body, { model }));
}

/**
 * A shallow copy of a JSON object with some fields replaced, keeping the key order. Copied
 * key by key: V8 makes `{ ...object, more }` of a parsed body about fifteen times slower.
 */
export function withFields(object: Json, fields: Record<string, Json>): Json {
  const copy: Json = {};
  for (const key of Object.keys(object)) {
    // A body's own "__proto__" key is data, as the spread would keep it, not a prototype.
    if (key === "__proto__") {
      Object.defineProperty(copy, key, { value: object[key], enumerable: true, writable: true });
    } else copy[key] = object[key];
  }
  for (const key of Object.keys(fields)) copy[key] = fields[key];
  return copy;
}
