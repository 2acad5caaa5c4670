import { converseUsage, emptyUsage, mergeUsage } from "../spend/usage.js";
import type { Json } from "./json.js";
import { eventJson, openAiChunk } from "./openai-chunk.js";
import { type SseEvent, sseText } from "./sse.js";
import type { StreamTranslator } from "./stream-translator.js";

/** Bedrock Converse answers (whole or streamed) as OpenAI chat completions. */

export function converseFinishReason(stop: Json): string {
  if (stop === "max_tokens") return "length";
  if (stop === "tool_use") return "tool_calls";
  if (stop === "content_filtered" || stop === "guardrail_intervened") return "content_filter";
  return "stop";
}

function openaiUsageFromConverse(usage: Json): Json {
  const n = converseUsage(usage);
  if (!n) return undefined;
  return {
    prompt_tokens: n.inputTokens,
    completion_tokens: n.outputTokens,
    total_tokens: n.inputTokens + n.outputTokens,
    prompt_tokens_details: { cached_tokens: n.cacheReadTokens },
  };
}

export function converseToOpenaiResponse(answer: Json, modelName: string, id: string): Json {
  let text = "";
  const toolCalls: Json[] = [];
  for (const block of answer.output?.message?.content ?? []) {
    if (typeof block.text === "string") text += block.text;
    else if (block.toolUse) {
      toolCalls.push({
        id: block.toolUse.toolUseId,
        type: "function",
        function: {
          name: block.toolUse.name,
          arguments: JSON.stringify(block.toolUse.input ?? {}),
        },
      });
    }
  }
  const message: Json = { role: "assistant", content: text || null, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: modelName,
    choices: [
      { index: 0, message, logprobs: null, finish_reason: converseFinishReason(answer.stopReason) },
    ],
    usage: openaiUsageFromConverse(answer.usage),
  };
}

/** ConverseStream events (decoded by EventStreamDecoder) as OpenAI chunks. */
export class ConverseToOpenaiStream implements StreamTranslator {
  readonly usage = emptyUsage();
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly toolIndex = new Map<number, number>();
  private done = false;

  constructor(
    private readonly modelName: string,
    private readonly id: string,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: Json, finish: string | null = null): string {
    return openAiChunk(
      { id: this.id, created: this.created, model: this.modelName },
      delta,
      finish,
    );
  }

  push(event: SseEvent): string {
    const data = eventJson(event);
    if (data === undefined) return "";
    if (event.event.startsWith("exception:")) {
      this.done = true;
      return sseText({ error: { message: data.message ?? event.event, type: "api_error" } });
    }
    switch (event.event) {
      case "messageStart":
        return this.chunk({ role: "assistant", content: "" });
      case "contentBlockStart": {
        const tool = data.start?.toolUse;
        if (!tool) return "";
        const index = this.toolIndex.size;
        this.toolIndex.set(data.contentBlockIndex, index);
        return this.chunk({
          tool_calls: [
            {
              index,
              id: tool.toolUseId,
              type: "function",
              function: { name: tool.name, arguments: "" },
            },
          ],
        });
      }
      case "contentBlockDelta": {
        const delta = data.delta ?? {};
        if (typeof delta.text === "string") return this.chunk({ content: delta.text });
        if (delta.toolUse) {
          const index = this.toolIndex.get(data.contentBlockIndex) ?? 0;
          return this.chunk({
            tool_calls: [{ index, function: { arguments: delta.toolUse.input ?? "" } }],
          });
        }
        return "";
      }
      case "messageStop":
        return this.chunk({}, converseFinishReason(data.stopReason));
      case "metadata": {
        mergeUsage(this.usage, converseUsage(data.usage));
        if (!this.includeUsage) return "";
        return sseText({
          id: this.id,
          object: "chat.completion.chunk",
          created: this.created,
          model: this.modelName,
          choices: [],
          usage: openaiUsageFromConverse(data.usage),
        });
      }
      default:
        return "";
    }
  }

  end(): string {
    if (this.done) return "";
    this.done = true;
    return "data: [DONE]\n\n";
  }
}
