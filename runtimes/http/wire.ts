import type { RuntimeEvent, RuntimeUsage } from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import type { ServerSentEvent } from "../sse-reader.js";

/**
 * The answers of the HTTP contract (CONTRACT.md), read strictly enough that an agent
 * breaking the contract gets a message naming what is wrong, and loosely enough that extra
 * fields never break a turn.
 */

export const AGENT = "The agent";

export function badResponse(detail: string): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.badResponse,
    `${AGENT} answered in a way Switchboard cannot read: ${detail} (see the HTTP runtime contract).`,
  );
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** `runtime_session`: a string, null (the agent keeps no session) or absent (unchanged). */
export function runtimeSessionOf(value: Record<string, unknown>): string | null | undefined {
  const session = value.runtime_session;
  if (session === undefined || session === null || typeof session === "string") return session;
  throw badResponse("runtime_session must be a string or null");
}

/** `usage`: one object or a list, one per model, with snake_case token counts. */
export function usageEvents(value: unknown): RuntimeEvent[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((entry) => {
    const usage = record(entry);
    const count = (name: string) => {
      const n = usage?.[name];
      return typeof n === "number" && Number.isFinite(n) && n >= 0 ? n : undefined;
    };
    const inputTokens = count("input_tokens");
    const outputTokens = count("output_tokens");
    if (inputTokens === undefined || outputTokens === undefined) {
      throw badResponse("usage needs input_tokens and output_tokens as numbers");
    }
    const result: RuntimeUsage = { inputTokens, outputTokens };
    if (typeof usage?.model === "string") result.model = usage.model;
    const cacheRead = count("cache_read_tokens");
    const cacheWrite = count("cache_write_tokens");
    const cost = count("cost_usd");
    if (cacheRead !== undefined) result.cacheReadTokens = cacheRead;
    if (cacheWrite !== undefined) result.cacheWriteTokens = cacheWrite;
    if (cost !== undefined) result.costUsd = cost;
    return { type: "usage" as const, usage: result };
  });
}

/** A JSON answer: `{ output, runtime_session?, usage? }`. */
export function readJsonAnswer(text: string): {
  output: string;
  runtimeSession: string | null | undefined;
  usage: RuntimeEvent[];
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badResponse("its JSON answer is not valid JSON");
  }
  const answer = record(parsed);
  if (!answer || typeof answer.output !== "string") {
    throw badResponse('its JSON answer has no "output" text');
  }
  return {
    output: answer.output,
    runtimeSession: runtimeSessionOf(answer),
    usage: usageEvents(answer.usage),
  };
}

/** The JSON data of a server-sent event, as an object. */
export function eventData(event: ServerSentEvent): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.data);
  } catch {
    throw badResponse(`the data of its "${event.event}" event is not JSON`);
  }
  const data = record(parsed);
  if (!data) throw badResponse(`the data of its "${event.event}" event is not a JSON object`);
  return data;
}

/** The body of a 409 that says the agent lost the session the handle named. */
export function isSessionNotFound(text: string): boolean {
  try {
    const body = record(JSON.parse(text));
    const nested = record(body?.error);
    return body?.code === "session_not_found" || nested?.code === "session_not_found";
  } catch {
    return false;
  }
}
