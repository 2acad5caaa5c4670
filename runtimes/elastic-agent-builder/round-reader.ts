import { excerpt } from "../excerpt.js";
import type { RuntimeEvent, RuntimeUsage } from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import type { ServerSentEvent } from "../sse-reader.js";

/** How the runtime is named in messages people read. */
export const AGENT_BUILDER = "Elastic Agent Builder";

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are plain JSON, read defensively.
type Json = any;

export function badResponse(detail: string): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.badResponse,
    `${AGENT_BUILDER} answered in a way Switchboard cannot read: ${detail}.`,
  );
}

/** Kibana's SSE error event, `{ error: { code, message } }`, kept apart so a turn can react. */
export class StreamError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads the events of one converse/async round. Kibana writes each as
 * `event: <type>` + `data: {"data": {...}}` (errors as `data: {"error": {code, message}}`):
 * `conversation_id_set`/`conversation_created` name the conversation, `tool_call` and
 * `message_chunk` stream, `message_complete` and `round_complete` close the round.
 */
export class RoundReader {
  conversationId: string | undefined;
  answer: string | undefined;
  usage: RuntimeUsage | undefined;
  complete = false;
  /** Whether anything of the answer was yielded yet. */
  started = false;
  private readonly chunks: string[] = [];

  read(event: ServerSentEvent): RuntimeEvent[] {
    const body = parse(event);
    if (event.event === "error") {
      const error = body.error ?? {};
      throw new StreamError(
        typeof error.code === "string" ? error.code : "",
        typeof error.message === "string" ? error.message : "",
      );
    }
    const data = body.data ?? {};
    switch (event.event) {
      case "conversation_id_set":
      case "conversation_created":
      case "conversation_updated": {
        const id = data.conversation_id;
        if (typeof id !== "string" || !id || id === this.conversationId) return [];
        this.conversationId = id;
        return [{ type: "handle", handle: { conversationId: id } }];
      }
      case "tool_call":
        if (typeof data.tool_id !== "string") return [];
        this.started = true;
        return [
          {
            type: "tool_use",
            name: data.tool_id,
            ...(data.params === undefined ? {} : { input: data.params }),
            ...(typeof data.tool_call_id === "string" ? { id: data.tool_call_id } : {}),
          },
        ];
      case "message_chunk":
        if (typeof data.text_chunk !== "string" || !data.text_chunk) return [];
        this.started = true;
        this.chunks.push(data.text_chunk);
        return [{ type: "message_delta", text: data.text_chunk }];
      case "message_complete":
        if (typeof data.message_content === "string") this.answer = data.message_content;
        return [];
      case "round_complete": {
        const round = data.round;
        if (!round || typeof round !== "object")
          throw badResponse("its round_complete has no round");
        this.complete = true;
        if (typeof round.response?.message === "string") this.answer = round.response.message;
        this.usage = usageOf(round.model_usage);
        return [];
      }
      default:
        // reasoning, tool_progress, tool_result, thinking_complete and events added later.
        return [];
    }
  }

  /** The round's answer: the final message, else the chunks joined. */
  get text(): string {
    return this.answer ?? this.chunks.join("");
  }
}

function parse(event: ServerSentEvent): Json {
  try {
    const parsed: unknown = JSON.parse(event.data);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch {
    // Falls through.
  }
  throw badResponse(`the data of its "${excerpt(event.event, 40)}" event is not a JSON object`);
}

/** A round's `model_usage`: tokens, and the model (or the connector, when Kibana names none). */
function usageOf(usage: Json): RuntimeUsage | undefined {
  if (!usage || typeof usage !== "object") return undefined;
  const count = (name: string) =>
    typeof usage[name] === "number" && usage[name] >= 0 ? (usage[name] as number) : 0;
  const model =
    typeof usage.model === "string"
      ? usage.model
      : typeof usage.connector_id === "string"
        ? usage.connector_id
        : undefined;
  return {
    ...(model ? { model } : {}),
    inputTokens: count("input_tokens"),
    outputTokens: count("output_tokens"),
  };
}
