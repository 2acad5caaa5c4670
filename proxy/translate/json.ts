// biome-ignore lint/suspicious/noExplicitAny: wire payloads are read defensively, field by field.
export type Json = any;

/** Tool arguments arrive as JSON text; a model that wrote invalid JSON still gets through. */
export function parseArguments(text: unknown): Json {
  if (typeof text !== "string" || text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return { _raw: text };
  }
}

/** OpenAI message content (string or parts) as plain text. */
export function contentText(content: Json): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: Json) => (part?.type === "text" || typeof part?.text === "string" ? part.text : ""))
    .join("");
}

/**
 * Appends content blocks as a turn. Anthropic and Bedrock Converse both want turns to
 * alternate, so blocks for the same role as the last turn join that turn.
 */
export function appendTurn(messages: Json[], role: "user" | "assistant", blocks: Json[]): void {
  const last = messages[messages.length - 1];
  if (last && last.role === role) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}
