import { type Json, sseEvent } from "./upstream-double.js";

/** Bodies in OpenAI's wire format, for the OpenAI double to answer with. */

export interface ToolCallSpec {
  id: string;
  name: string;
  arguments: string;
}

export function chatCompletion(options: {
  model: string;
  content?: string | null;
  toolCalls?: ToolCallSpec[];
  promptTokens?: number;
  completionTokens?: number;
}): Json {
  const promptTokens = options.promptTokens ?? 10;
  const completionTokens = options.completionTokens ?? 5;
  const message: Json = { role: "assistant", content: options.content ?? null, refusal: null };
  if (options.toolCalls) {
    message.tool_calls = options.toolCalls.map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: c.arguments },
    }));
  }
  return {
    id: "chatcmpl-double",
    object: "chat.completion",
    created: 1_700_000_000,
    model: options.model,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: options.toolCalls ? "tool_calls" : "stop",
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

/** A streamed chat completion: a role chunk, one chunk per text piece, a finish chunk, usage if asked, [DONE]. */
export function chatStream(options: {
  model: string;
  pieces: string[];
  toolCalls?: ToolCallSpec[];
  includeUsage?: boolean;
  promptTokens?: number;
  completionTokens?: number;
}): string[] {
  const base = {
    id: "chatcmpl-double",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: options.model,
  };
  const usageField = options.includeUsage ? { usage: null } : {};
  const chunk = (delta: Json, finish: string | null = null) =>
    sseEvent({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...usageField,
    });
  const events = [chunk({ role: "assistant", content: "" })];
  for (const piece of options.pieces) events.push(chunk({ content: piece }));
  for (const [index, call] of (options.toolCalls ?? []).entries()) {
    events.push(
      chunk({
        tool_calls: [
          { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
        ],
      }),
    );
    events.push(chunk({ tool_calls: [{ index, function: { arguments: call.arguments } }] }));
  }
  events.push(chunk({}, options.toolCalls ? "tool_calls" : "stop"));
  if (options.includeUsage) {
    const prompt = options.promptTokens ?? 10;
    const completion = options.completionTokens ?? 5;
    events.push(
      sseEvent({
        ...base,
        choices: [],
        usage: {
          prompt_tokens: prompt,
          completion_tokens: completion,
          total_tokens: prompt + completion,
        },
      }),
    );
  }
  events.push("data: [DONE]\n\n");
  return events;
}

export function openaiError(message: string, type = "server_error"): Json {
  return { error: { message, type, param: null, code: null } };
}
