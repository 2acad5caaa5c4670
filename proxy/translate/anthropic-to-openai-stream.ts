import { anthropicUsage, emptyUsage, mergeUsage } from "../spend/usage.js";
import { finishReason, openaiUsageFromAnthropic } from "./anthropic-to-openai-response.js";
import type { Json } from "./json.js";
import { eventJson, openAiChunk } from "./openai-chunk.js";
import { type SseEvent, sseText } from "./sse.js";
import type { StreamTranslator } from "./stream-translator.js";

/** Anthropic Messages stream events as OpenAI chat completion chunks. */
export class AnthropicToOpenaiStream implements StreamTranslator {
  readonly usage = emptyUsage();
  private id = "chatcmpl-proxy";
  private readonly created = Math.floor(Date.now() / 1000);
  private rawUsage: Json = {};
  /** Anthropic content block index -> OpenAI tool call index. */
  private readonly toolIndex = new Map<number, number>();
  private done = false;

  constructor(
    private readonly modelName: string,
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
    switch (data.type) {
      case "message_start":
        this.id = data.message?.id ?? this.id;
        this.rawUsage = { ...data.message?.usage };
        mergeUsage(this.usage, anthropicUsage(this.rawUsage));
        return this.chunk({ role: "assistant", content: "" });
      case "content_block_start": {
        const block = data.content_block;
        if (block?.type !== "tool_use") return "";
        const index = this.toolIndex.size;
        this.toolIndex.set(data.index, index);
        return this.chunk({
          tool_calls: [
            {
              index,
              id: block.id,
              type: "function",
              function: { name: block.name, arguments: "" },
            },
          ],
        });
      }
      case "content_block_delta": {
        const delta = data.delta;
        if (delta?.type === "text_delta") return this.chunk({ content: delta.text });
        if (delta?.type === "input_json_delta") {
          const index = this.toolIndex.get(data.index) ?? 0;
          return this.chunk({
            tool_calls: [{ index, function: { arguments: delta.partial_json } }],
          });
        }
        return "";
      }
      case "message_delta":
        Object.assign(this.rawUsage, data.usage);
        mergeUsage(this.usage, anthropicUsage(this.rawUsage));
        return this.chunk({}, finishReason(data.delta?.stop_reason));
      case "message_stop":
        return this.finish();
      case "error":
        this.done = true;
        return sseText({
          error: { message: data.error?.message ?? "upstream error", type: data.error?.type },
        });
      default:
        return "";
    }
  }

  private finish(): string {
    if (this.done) return "";
    this.done = true;
    const usage = this.includeUsage
      ? sseText({
          id: this.id,
          object: "chat.completion.chunk",
          created: this.created,
          model: this.modelName,
          choices: [],
          usage: openaiUsageFromAnthropic(this.rawUsage),
        })
      : "";
    return `${usage}data: [DONE]\n\n`;
  }

  end(): string {
    return this.finish();
  }
}
