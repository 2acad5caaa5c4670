import { emptyUsage, mergeUsage, openaiUsage } from "../spend/usage.js";
import type { Json } from "./json.js";
import { anthropicUsageFromOpenai, stopReason } from "./openai-to-anthropic-response.js";
import { type SseEvent, sseText } from "./sse.js";
import type { StreamTranslator } from "./stream-translator.js";

const event = (type: string, data: Json) => sseText({ type, ...data }, type);

/**
 * OpenAI chat completion chunks as Anthropic Messages stream events. OpenAI sends usage in a
 * chunk after the finish reason, so `message_delta` and `message_stop` go out at `[DONE]`.
 */
export class OpenaiToAnthropicStream implements StreamTranslator {
  readonly usage = emptyUsage();
  private started = false;
  private finished = false;
  /** The open content block: its index and kind; -1 before the first. */
  private blockIndex = -1;
  private blockKind: "text" | "tool" | null = null;
  /** OpenAI tool call index -> Anthropic block index. */
  private readonly toolBlocks = new Map<number, number>();
  private finish: Json = null;
  private rawUsage: Json = null;

  constructor(private readonly modelName: string) {}

  private start(id: string): string {
    this.started = true;
    return event("message_start", {
      message: {
        id,
        type: "message",
        role: "assistant",
        model: this.modelName,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  }

  private open(kind: "text" | "tool", block: Json): string {
    const close = this.close();
    this.blockIndex += 1;
    this.blockKind = kind;
    return close + event("content_block_start", { index: this.blockIndex, content_block: block });
  }

  private close(): string {
    if (this.blockKind === null) return "";
    this.blockKind = null;
    return event("content_block_stop", { index: this.blockIndex });
  }

  push(sse: SseEvent): string {
    if (sse.data === "[DONE]") return this.end();
    let chunk: Json;
    try {
      chunk = JSON.parse(sse.data);
    } catch {
      return "";
    }
    if (chunk.error) {
      this.finished = true;
      return event("error", {
        error: { type: "api_error", message: chunk.error.message ?? "upstream error" },
      });
    }
    let out = this.started ? "" : this.start(chunk.id ?? "msg_proxy");
    if (chunk.usage) {
      this.rawUsage = chunk.usage;
      mergeUsage(this.usage, openaiUsage(chunk.usage));
    }
    const choice = chunk.choices?.[0];
    if (!choice) return out;
    const delta = choice.delta ?? {};
    if (typeof delta.content === "string" && delta.content) {
      if (this.blockKind !== "text") out += this.open("text", { type: "text", text: "" });
      out += event("content_block_delta", {
        index: this.blockIndex,
        delta: { type: "text_delta", text: delta.content },
      });
    }
    for (const call of delta.tool_calls ?? []) {
      if (call.id || !this.toolBlocks.has(call.index ?? 0)) {
        out += this.open("tool", {
          type: "tool_use",
          id: call.id,
          name: call.function?.name,
          input: {},
        });
        this.toolBlocks.set(call.index ?? 0, this.blockIndex);
      }
      if (call.function?.arguments) {
        out += event("content_block_delta", {
          index: this.toolBlocks.get(call.index ?? 0),
          delta: { type: "input_json_delta", partial_json: call.function.arguments },
        });
      }
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  end(): string {
    if (this.finished) return "";
    this.finished = true;
    const out = (this.started ? "" : this.start("msg_proxy")) + this.close();
    return (
      out +
      event("message_delta", {
        delta: { stop_reason: stopReason(this.finish), stop_sequence: null },
        usage: anthropicUsageFromOpenai(this.rawUsage),
      }) +
      event("message_stop", {})
    );
  }
}
