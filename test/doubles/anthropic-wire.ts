import { type Json, sseEvent } from "./upstream-double.js";

/** Bodies in Anthropic's Messages wire format, for the Anthropic double to answer with. */

export interface ToolUseSpec {
  id: string;
  name: string;
  input: Json;
}

export function anthropicMessage(options: {
  model: string;
  text?: string;
  toolUses?: ToolUseSpec[];
  inputTokens?: number;
  outputTokens?: number;
}): Json {
  const content: Json[] = [];
  if (options.text) content.push({ type: "text", text: options.text });
  for (const use of options.toolUses ?? []) content.push({ type: "tool_use", ...use });
  return {
    id: "msg_double",
    type: "message",
    role: "assistant",
    model: options.model,
    content,
    stop_reason: options.toolUses ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: options.inputTokens ?? 12, output_tokens: options.outputTokens ?? 6 },
  };
}

/** A streamed message the way Anthropic sends it: named events, usage at start and end. */
export function anthropicStream(options: {
  model: string;
  pieces: string[];
  toolUses?: ToolUseSpec[];
  inputTokens?: number;
  outputTokens?: number;
}): string[] {
  const e = (type: string, data: Json) => sseEvent({ type, ...data }, type);
  const events = [
    e("message_start", {
      message: {
        id: "msg_double",
        type: "message",
        role: "assistant",
        model: options.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: options.inputTokens ?? 12, output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (options.pieces.length > 0) {
    events.push(e("content_block_start", { index, content_block: { type: "text", text: "" } }));
    events.push(e("ping", {}));
    for (const text of options.pieces) {
      events.push(e("content_block_delta", { index, delta: { type: "text_delta", text } }));
    }
    events.push(e("content_block_stop", { index }));
    index += 1;
  }
  for (const use of options.toolUses ?? []) {
    events.push(
      e("content_block_start", {
        index,
        content_block: { type: "tool_use", id: use.id, name: use.name, input: {} },
      }),
    );
    events.push(
      e("content_block_delta", {
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(use.input) },
      }),
    );
    events.push(e("content_block_stop", { index }));
    index += 1;
  }
  events.push(
    e("message_delta", {
      delta: { stop_reason: options.toolUses ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: options.outputTokens ?? 6 },
    }),
  );
  events.push(e("message_stop", {}));
  return events;
}

export function anthropicError(type: string, message: string): Json {
  return { type: "error", error: { type, message } };
}
