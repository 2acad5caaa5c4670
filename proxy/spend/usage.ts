/**
 * Token counts in one shape whatever the provider reported. `inputTokens` is the whole
 * prompt, cache reads and writes included (OpenAI counts that way; Anthropic and Bedrock
 * report the parts, which are added up here).
 */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

// biome-ignore lint/suspicious/noExplicitAny: provider payloads are read defensively, field by field.
type Json = any;

const n = (value: unknown): number =>
  typeof value === "number" && Number.isFinite(value) ? value : 0;

/** OpenAI chat, embeddings and Responses usage (`prompt_tokens` or `input_tokens`). */
export function openaiUsage(usage: Json): TokenUsage | null {
  if (!usage || typeof usage !== "object") return null;
  const input = n(usage.prompt_tokens ?? usage.input_tokens);
  const details = usage.prompt_tokens_details ?? usage.input_tokens_details;
  return {
    inputTokens: input,
    outputTokens: n(usage.completion_tokens ?? usage.output_tokens),
    cacheReadTokens: n(details?.cached_tokens),
    cacheWriteTokens: 0,
  };
}

/** Anthropic usage: `input_tokens` excludes the cache parts. */
export function anthropicUsage(usage: Json): TokenUsage | null {
  if (!usage || typeof usage !== "object") return null;
  const cacheRead = n(usage.cache_read_input_tokens);
  const cacheWrite = n(usage.cache_creation_input_tokens);
  return {
    inputTokens: n(usage.input_tokens) + cacheRead + cacheWrite,
    outputTokens: n(usage.output_tokens),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
}

/** Bedrock Converse usage. */
export function converseUsage(usage: Json): TokenUsage | null {
  if (!usage || typeof usage !== "object") return null;
  const cacheRead = n(usage.cacheReadInputTokens);
  const cacheWrite = n(usage.cacheWriteInputTokens);
  return {
    inputTokens: n(usage.inputTokens) + cacheRead + cacheWrite,
    outputTokens: n(usage.outputTokens),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
}

/** Later streamed usage only raises counts (Anthropic reports input first, output last). */
export function mergeUsage(into: TokenUsage, from: TokenUsage | null): void {
  if (!from) return;
  into.inputTokens = Math.max(into.inputTokens, from.inputTokens);
  into.outputTokens = Math.max(into.outputTokens, from.outputTokens);
  into.cacheReadTokens = Math.max(into.cacheReadTokens, from.cacheReadTokens);
  into.cacheWriteTokens = Math.max(into.cacheWriteTokens, from.cacheWriteTokens);
}
