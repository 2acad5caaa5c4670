import { excerpt } from "../excerpt.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";

/**
 * Reading what an AgentCore agent answers. AgentCore passes the agent container's own HTTP
 * answer through (https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-service-contract.html):
 * a `text/event-stream` when the agent streams (BedrockAgentCoreApp writes each yielded
 * value as `data: <JSON>`), JSON otherwise, plain text from some agents. The shape inside
 * is the agent's own, so the usual places are looked in.
 */

export const AGENT = "The AgentCore agent";

export function badResponse(detail: string): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.badResponse,
    `${AGENT} answered in a way Switchboard cannot read: ${detail}.`,
  );
}

export function agentFailed(message: string): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.agentFailed,
    `${AGENT} reported an error: ${excerpt(message)}`,
  );
}

type Json = Record<string, unknown>;
const TEXT_FIELDS = ["result", "response", "output", "answer", "text", "message", "content"];

/** Text inside a value: a string, a Bedrock/Strands message `{ content: [{ text }] }`, or a usual field. */
export function textIn(value: unknown, depth = 0): string | undefined {
  if (typeof value === "string") return value;
  if (depth > 3 || !value || typeof value !== "object") return undefined;
  if (Array.isArray(value)) {
    const parts = value.map((part) => textIn(part, depth + 1)).filter((t) => t !== undefined);
    return parts.length > 0 ? parts.join("") : undefined;
  }
  const record = value as Json;
  for (const field of TEXT_FIELDS) {
    const found = textIn(record[field], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The turn the agent's memory is at, when it reports one (`turn`). */
export function turnIn(value: unknown): number | undefined {
  const turn = value && typeof value === "object" ? (value as Json).turn : undefined;
  return typeof turn === "number" && Number.isInteger(turn) ? turn : undefined;
}

/** An `error` the agent put in its answer, as a message. */
export function errorIn(value: unknown): string | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const error = (value as Json).error;
  if (typeof error === "string") return error;
  if (error && typeof error === "object") return textIn(error) ?? "it did not say why";
  return undefined;
}

/**
 * One streamed event's text: a JSON string (what a generator of strings yields), the text
 * of a JSON object (Strands' `{ data }` deltas among them), or the raw data when not JSON.
 */
export function readStreamEvent(data: string): { text?: string; turn?: number } {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { text: data };
  }
  const error = errorIn(value);
  if (error !== undefined) throw agentFailed(error);
  const turn = turnIn(value);
  const text =
    typeof value === "string"
      ? value
      : value && typeof value === "object" && typeof (value as Json).data === "string"
        ? ((value as Json).data as string)
        : value && typeof value === "object" && typeof (value as Json).delta === "string"
          ? ((value as Json).delta as string)
          : textIn(value);
  return { ...(text ? { text } : {}), ...(turn !== undefined ? { turn } : {}) };
}

/** A whole JSON answer. */
export function readJsonAnswer(raw: string): { text: string; turn?: number } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badResponse("its JSON answer is not valid JSON");
  }
  const error = errorIn(value);
  if (error !== undefined) throw agentFailed(error);
  const text = textIn(value);
  if (text === undefined) {
    throw badResponse(
      "its answer has no text in it (Switchboard looks for result, response, output or text)",
    );
  }
  const turn = turnIn(value);
  return { text, ...(turn !== undefined ? { turn } : {}) };
}
