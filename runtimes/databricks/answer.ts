import { excerpt } from "../excerpt.js";
import type { RuntimeEvent, RuntimeUsage } from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";

/**
 * Reading what a Databricks agent answers: MLflow's ResponsesAgent schema (OpenAI Responses
 * compatible), whole (`ResponsesAgentResponse`) or streamed (`ResponsesAgentStreamEvent`s):
 * https://mlflow.org/docs/latest/genai/serving/responses-agent and mlflow/types/responses.py.
 */

export const AGENT = "The Databricks agent";

export function badResponse(detail: string): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.badResponse,
    `${AGENT} answered in a way Switchboard cannot read: ${detail}.`,
  );
}

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json | undefined =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;

/** The text of an output item of type `message`: its `output_text` parts joined. */
function messageText(item: Json): string | undefined {
  if (item.type !== "message" || !Array.isArray(item.content)) return undefined;
  const parts = item.content
    .map(asObject)
    .filter((part): part is Json => part?.type === "output_text" && typeof part.text === "string")
    .map((part) => part.text as string);
  return parts.length > 0 ? parts.join("") : undefined;
}

/** A `function_call` output item as the run's timeline shows it. */
function toolUse(item: Json): RuntimeEvent | undefined {
  if (item.type !== "function_call" || typeof item.name !== "string") return undefined;
  let input: unknown = item.arguments;
  if (typeof input === "string") {
    try {
      input = JSON.parse(input);
    } catch {
      // Arguments that are not JSON are shown as the agent wrote them.
    }
  }
  const id = typeof item.call_id === "string" ? item.call_id : undefined;
  return { type: "tool_use", name: item.name, input, ...(id ? { id } : {}) };
}

/** `usage` of a Responses object, when the agent reported one. */
export function usageOf(response: Json, fallbackModel: string): RuntimeEvent | undefined {
  const usage = asObject(response.usage);
  if (!usage) return undefined;
  const inputTokens = typeof usage.input_tokens === "number" ? usage.input_tokens : 0;
  const outputTokens = typeof usage.output_tokens === "number" ? usage.output_tokens : 0;
  if (inputTokens + outputTokens === 0) return undefined;
  const cached = asObject(usage.input_tokens_details)?.cached_tokens;
  const reported: RuntimeUsage = {
    model: typeof response.model === "string" && response.model ? response.model : fallbackModel,
    inputTokens,
    outputTokens,
    ...(typeof cached === "number" && cached > 0 ? { cacheReadTokens: cached } : {}),
  };
  return { type: "usage", usage: reported };
}

/** The agent's own failure, from a Responses `error` or an `error` stream event. */
function agentError(message: unknown): RuntimeError {
  const text = typeof message === "string" && message.trim() ? message : "it did not say why";
  return new RuntimeError(
    RUNTIME_ERROR_CODES.agentFailed,
    `${AGENT} reported an error: ${excerpt(text)}`,
  );
}

/** What the agent said about its thread: the turn its memory is at, when it reports one. */
export function reportedTurn(customOutputs: unknown): number | undefined {
  const turn = asObject(customOutputs)?.turn;
  return typeof turn === "number" && Number.isInteger(turn) ? turn : undefined;
}

export interface AgentAnswer {
  text: string;
  tools: RuntimeEvent[];
  usage?: RuntimeEvent;
  turn?: number;
}

/** A whole `ResponsesAgentResponse`. */
export function readResponse(value: unknown, model: string): AgentAnswer {
  const response = asObject(value);
  if (!response || !Array.isArray(response.output)) {
    throw badResponse("its JSON has no output list (a ResponsesAgent answers { output: [...] })");
  }
  const error = asObject(response.error);
  if (error || response.status === "failed") throw agentError(error?.message);
  const texts: string[] = [];
  const tools: RuntimeEvent[] = [];
  for (const raw of response.output) {
    const item = asObject(raw);
    if (!item) continue;
    const text = messageText(item);
    if (text !== undefined) texts.push(text);
    const tool = toolUse(item);
    if (tool) tools.push(tool);
  }
  if (texts.length === 0) throw badResponse("its output has no message with text in it");
  const usage = usageOf(response, model);
  const turn = reportedTurn(response.custom_outputs);
  return {
    text: texts.join("\n\n"),
    tools,
    ...(usage ? { usage } : {}),
    ...(turn !== undefined ? { turn } : {}),
  };
}

/**
 * The stream's events, one `data:` payload at a time. Text arrives as
 * `response.output_text.delta` (by `item_id`) and each finished item as
 * `response.output_item.done`; an agent may send either or both, so an item's text is its
 * `done` text when it came, its deltas otherwise. `response.completed` carries usage.
 */
export class StreamReader {
  private readonly order: string[] = [];
  private readonly deltas = new Map<string, string>();
  private readonly done = new Map<string, string>();
  private completed: Json | undefined;
  turn: number | undefined;

  constructor(private readonly model: string) {}

  /** The events to yield for one `data:` payload. */
  read(data: string): RuntimeEvent[] {
    if (data.trim() === "[DONE]") return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      throw badResponse("an event of its stream is not JSON");
    }
    const event = asObject(parsed);
    if (!event || typeof event.type !== "string") {
      throw badResponse("an event of its stream has no type");
    }
    const turn = reportedTurn(event.custom_outputs);
    if (turn !== undefined) this.turn = turn;
    switch (event.type) {
      case "response.output_text.delta": {
        if (typeof event.delta !== "string" || !event.delta) return [];
        const id = typeof event.item_id === "string" ? event.item_id : "";
        this.seen(id);
        this.deltas.set(id, (this.deltas.get(id) ?? "") + event.delta);
        return [{ type: "message_delta", text: event.delta }];
      }
      case "response.output_item.done": {
        const item = asObject(event.item);
        if (!item) return [];
        const tool = toolUse(item);
        if (tool) return [tool];
        const text = messageText(item);
        if (text === undefined) return [];
        const id = typeof item.id === "string" ? item.id : `item-${this.order.length}`;
        this.seen(id);
        this.done.set(id, text);
        // Text that came only whole still reaches the person as it arrives.
        return this.deltas.has(id) ? [] : [{ type: "message_delta", text }];
      }
      case "response.completed": {
        this.completed = asObject(event.response);
        const outputs = reportedTurn(this.completed?.custom_outputs);
        if (outputs !== undefined) this.turn = outputs;
        return [];
      }
      case "error":
      case "response.error":
      case "response.failed": {
        const nested = asObject(asObject(event.response)?.error);
        throw agentError(event.message ?? nested?.message);
      }
      default:
        return [];
    }
  }

  /** The whole answer once the stream ended; a bad response when it held no text. */
  finish(): { text: string; usage?: RuntimeEvent } {
    const texts = this.order
      .map((id) => this.done.get(id) ?? this.deltas.get(id) ?? "")
      .filter((text) => text.length > 0);
    if (texts.length === 0) throw badResponse("its stream ended without any text");
    const usage = this.completed ? usageOf(this.completed, this.model) : undefined;
    return { text: texts.join("\n\n"), ...(usage ? { usage } : {}) };
  }

  private seen(id: string): void {
    if (!this.order.includes(id)) this.order.push(id);
  }
}
