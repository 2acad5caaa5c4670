import { openaiUsage } from "../spend/usage.js";
import { type Json, parseArguments } from "./json.js";

export function stopReason(finish: Json): string {
  if (finish === "length") return "max_tokens";
  if (finish === "tool_calls" || finish === "function_call") return "tool_use";
  return "end_turn";
}

/** OpenAI usage in Anthropic's shape (Anthropic's input count excludes cache reads). */
export function anthropicUsageFromOpenai(usage: Json): Json {
  const normalized = openaiUsage(usage) ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 };
  return {
    input_tokens: normalized.inputTokens - normalized.cacheReadTokens,
    output_tokens: normalized.outputTokens,
    cache_read_input_tokens: normalized.cacheReadTokens,
    cache_creation_input_tokens: 0,
  };
}

/** An OpenAI chat completion as an Anthropic message, named by the model the client asked for. */
export function openaiToAnthropicResponse(completion: Json, modelName: string): Json {
  const choice = completion.choices?.[0] ?? {};
  const message = choice.message ?? {};
  const content: Json[] = [];
  if (typeof message.content === "string" && message.content)
    content.push({ type: "text", text: message.content });
  for (const call of message.tool_calls ?? []) {
    content.push({
      type: "tool_use",
      id: call.id,
      name: call.function?.name,
      input: parseArguments(call.function?.arguments),
    });
  }
  return {
    id: completion.id ?? "msg_proxy",
    type: "message",
    role: "assistant",
    model: modelName,
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsageFromOpenai(completion.usage),
  };
}
