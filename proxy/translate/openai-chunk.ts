import type { Json } from "./json.js";
import { type SseEvent, sseText } from "./sse.js";

/** What every chunk of one translated OpenAI chat stream repeats. */
export interface ChunkStream {
  id: string;
  created: number;
  model: string;
}

/** One `chat.completion.chunk` SSE event, as the OpenAI client expects it. */
export function openAiChunk(
  stream: ChunkStream,
  delta: Json,
  finish: string | null = null,
): string {
  return sseText({
    id: stream.id,
    object: "chat.completion.chunk",
    created: stream.created,
    model: stream.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
}

/** An upstream event's JSON payload; undefined for a payload that is not JSON (it is skipped). */
export function eventJson(event: SseEvent): Json | undefined {
  try {
    return JSON.parse(event.data);
  } catch {
    return undefined;
  }
}
