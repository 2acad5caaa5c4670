import type { Json } from "./json.js";

/**
 * An Anthropic Messages request as an OpenAI chat completion request: `system` becomes a
 * system message, `tool_use` blocks tool calls, `tool_result` blocks tool messages (placed
 * before the rest of their user turn, as OpenAI wants them right after the call).
 */

function blockText(content: Json): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((b: Json) => (b?.type === "text" ? b.text : "")).join("");
}

function userMessages(content: Json): Json[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const out: Json[] = [];
  const parts: Json[] = [];
  for (const block of content ?? []) {
    if (block.type === "tool_result") {
      out.push({
        role: "tool",
        tool_call_id: block.tool_use_id,
        content: blockText(block.content),
      });
    } else if (block.type === "image") {
      const src = block.source ?? {};
      const url = src.type === "base64" ? `data:${src.media_type};base64,${src.data}` : src.url;
      parts.push({ type: "image_url", image_url: { url } });
    } else if (block.type === "text") parts.push({ type: "text", text: block.text });
  }
  if (parts.length > 0) out.push({ role: "user", content: parts });
  return out;
}

function assistantMessage(content: Json): Json {
  if (typeof content === "string") return { role: "assistant", content };
  const message: Json = { role: "assistant", content: blockText(content) || null };
  const calls = (content ?? [])
    .filter((b: Json) => b.type === "tool_use")
    .map((b: Json) => ({
      id: b.id,
      type: "function",
      function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
    }));
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function toolChoice(choice: Json): Json {
  if (!choice) return undefined;
  if (choice.type === "any") return "required";
  if (choice.type === "none") return "none";
  if (choice.type === "tool") return { type: "function", function: { name: choice.name } };
  return "auto";
}

export function anthropicToOpenaiRequest(request: Json, upstreamModel: string): Json {
  const messages: Json[] = [];
  const system = blockText(request.system);
  if (system) messages.push({ role: "system", content: system });
  for (const message of request.messages ?? []) {
    if (message.role === "assistant") messages.push(assistantMessage(message.content));
    else messages.push(...userMessages(message.content));
  }
  const chat: Json = { model: upstreamModel, messages };
  if (request.max_tokens !== undefined) chat.max_tokens = request.max_tokens;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (Array.isArray(request.stop_sequences)) chat.stop = request.stop_sequences;
  if (request.metadata?.user_id) chat.user = request.metadata.user_id;
  if (request.stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  if (Array.isArray(request.tools) && request.tools.length > 0) {
    chat.tools = request.tools.map((tool: Json) => ({
      type: "function",
      function: { name: tool.name, description: tool.description, parameters: tool.input_schema },
    }));
    const choice = toolChoice(request.tool_choice);
    if (choice) chat.tool_choice = choice;
    if (request.tool_choice?.disable_parallel_tool_use) chat.parallel_tool_calls = false;
  }
  return chat;
}
