import { anthropicUsage } from "../spend/usage.js";
import type { Json } from "./json.js";

/** An Anthropic stop_reason as OpenAI's finish_reason. */
export function finishReason(stopReason: Json): string {
  if (stopReason === "max_tokens") return "length";
  if (stopReason === "tool_use") return "tool_calls";
  return "stop";
}

/** Anthropic usage in OpenAI's shape (OpenAI's prompt count includes cached tokens). */
export function openaiUsageFromAnthropic(usage: Json): Json {
  const normalized = anthropicUsage(usage);
  if (!normalized) return undefined;
  return {
    prompt_tokens: normalized.inputTokens,
    completion_tokens: normalized.outputTokens,
    total_tokens: normalized.inputTokens + normalized.outputTokens,
    prompt_tokens_details: { cached_tokens: normalized.cacheReadTokens },
  };
}

/** An Anthropic message as an OpenAI chat completion, named by the model the client asked for. */
export function anthropicToOpenaiResponse(message: Json, modelName: string): Json {
  let text = "";
  const toolCalls: Json[] = [];
  for (const block of message.content ?? []) {
    if (block.type === "text") text += block.text;
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const reply: Json = { role: "assistant", content: text || null, refusal: null };
  if (toolCalls.length > 0) reply.tool_calls = toolCalls;
  return {
    id: message.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: modelName,
    choices: [
      {
        index: 0,
        message: reply,
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
    usage: openaiUsageFromAnthropic(message.usage),
  };
}
