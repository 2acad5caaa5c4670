import { excerpt } from "../excerpt.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";

/**
 * Reading what an n8n workflow answers. n8n passes "items" (JSON objects) between nodes;
 * the webhook answers with the last node's first item, all its items (an array), whatever
 * a Respond to Webhook node sends, or, when streaming, NDJSON chunks.
 */

export const WORKFLOW = "The n8n workflow";

export function badResponse(detail: string): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.badResponse,
    `${WORKFLOW} answered in a way Switchboard cannot read: ${detail}.`,
  );
}

export interface WorkflowAnswer {
  text: string;
  /** The turn count of the workflow's memory, when the workflow reports it. */
  turn?: number;
  /** The workflow's own session id, when it chose one. */
  sessionId?: string;
}

/** Where the answer usually is: an AI Agent's `output`, a chain's `text`, `response`. */
const TEXT_FIELDS = ["output", "text", "response", "message", "answer"];
/** String fields that are never the answer: what we sent, and what the Chat Trigger adds. */
const NOT_ANSWERS = new Set(["sessionId", "action", "chatInput", "error"]);

function textOf(item: Record<string, unknown>): string | undefined {
  for (const field of TEXT_FIELDS) {
    if (typeof item[field] === "string") return item[field];
  }
  for (const [field, value] of Object.entries(item)) {
    if (typeof value === "string" && !NOT_ANSWERS.has(field)) return value;
  }
  return undefined;
}

/** An item n8n produced for a failed node ("continue on error"): `{ error: "..." }`. */
function errorOf(item: Record<string, unknown>): string | undefined {
  const error = item.error;
  if (typeof error === "string") return error;
  if (error && typeof error === "object") {
    const message = (error as Record<string, unknown>).message;
    return typeof message === "string" ? message : "a node failed";
  }
  return undefined;
}

function asItem(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The answer in a JSON body: an item, a list of items, or a bare string. */
export function readWorkflowJson(value: unknown): WorkflowAnswer {
  if (typeof value === "string") return { text: value };
  const items = (Array.isArray(value) ? value : [value]).map(asItem);
  if (items.length === 0 || items.some((item) => item === undefined)) {
    throw badResponse("its JSON is not an item or a list of items");
  }
  const texts: string[] = [];
  const answer: Omit<WorkflowAnswer, "text"> = {};
  for (const item of items as Record<string, unknown>[]) {
    const hasAnswerField = TEXT_FIELDS.some((field) => typeof item[field] === "string");
    const error = errorOf(item);
    if (!hasAnswerField && error !== undefined) {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.agentFailed,
        `${WORKFLOW} reported an error: ${excerpt(error)}`,
      );
    }
    const text = textOf(item);
    if (text !== undefined) texts.push(text);
    if (answer.turn === undefined && typeof item.turn === "number") answer.turn = item.turn;
    if (answer.sessionId === undefined && typeof item.sessionId === "string" && item.sessionId) {
      answer.sessionId = item.sessionId;
    }
  }
  if (texts.length === 0) {
    throw badResponse(
      "its answer has no text in it (Switchboard looks for output, text or response)",
    );
  }
  return { text: texts.join("\n\n"), ...answer };
}

export type StreamLine =
  | { kind: "chunk"; type: "begin" | "item" | "end" | "error"; content?: string }
  /** A line that is not a chunk: a workflow that streamed nothing sends its result as JSON. */
  | { kind: "result"; value: unknown };

const CHUNK_TYPES = new Set(["begin", "item", "end", "error"]);

/** One NDJSON line of n8n's streaming answer. */
export function readStreamLine(line: string): StreamLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw badResponse("a line of its streamed answer is not JSON");
  }
  const chunk = asItem(parsed);
  if (chunk && typeof chunk.type === "string" && CHUNK_TYPES.has(chunk.type)) {
    return {
      kind: "chunk",
      type: chunk.type as "begin" | "item" | "end" | "error",
      ...(typeof chunk.content === "string" ? { content: chunk.content } : {}),
    };
  }
  return { kind: "result", value: parsed };
}
