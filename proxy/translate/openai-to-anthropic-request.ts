import { appendTurn, contentText, type Json, parseArguments } from "./json.js";

/**
 * An OpenAI chat completion request as an Anthropic Messages request: system messages
 * become `system`, tool calls become `tool_use` blocks, tool messages `tool_result` blocks
 * in a user turn, images `image` blocks.
 */

function imageBlock(url: string): Json {
  const match = /^data:([^;]+);base64,(.*)$/s.exec(url);
  if (match)
    return { type: "image", source: { type: "base64", media_type: match[1], data: match[2] } };
  return { type: "image", source: { type: "url", url } };
}

function userBlocks(content: Json): Json[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (!Array.isArray(content)) return [];
  return content.map((part: Json) =>
    part?.type === "image_url"
      ? imageBlock(typeof part.image_url === "string" ? part.image_url : part.image_url?.url)
      : { type: "text", text: part?.text ?? "" },
  );
}

function assistantBlocks(message: Json): Json[] {
  const blocks: Json[] = [];
  const text = contentText(message.content);
  if (text) blocks.push({ type: "text", text });
  for (const call of message.tool_calls ?? []) {
    blocks.push({
      type: "tool_use",
      id: call.id,
      name: call.function?.name,
      input: parseArguments(call.function?.arguments),
    });
  }
  return blocks;
}

function toolChoice(choice: Json, parallel: Json): Json {
  let mapped: Json;
  if (choice === "required") mapped = { type: "any" };
  else if (choice === "none") mapped = { type: "none" };
  else if (choice && typeof choice === "object")
    mapped = { type: "tool", name: choice.function?.name };
  else if (choice === "auto" || parallel === false) mapped = { type: "auto" };
  if (mapped && parallel === false && mapped.type !== "none")
    mapped.disable_parallel_tool_use = true;
  return mapped;
}

export function openaiToAnthropicRequest(chat: Json, upstreamModel: string): Json {
  const system: string[] = [];
  const messages: Json[] = [];
  const push = (role: "user" | "assistant", blocks: Json[]) => appendTurn(messages, role, blocks);
  for (const message of chat.messages ?? []) {
    if (message.role === "system" || message.role === "developer")
      system.push(contentText(message.content));
    else if (message.role === "assistant") push("assistant", assistantBlocks(message));
    else if (message.role === "tool") {
      push("user", [
        {
          type: "tool_result",
          tool_use_id: message.tool_call_id,
          content: contentText(message.content),
        },
      ]);
    } else push("user", userBlocks(message.content));
  }
  const request: Json = {
    model: upstreamModel,
    messages,
    max_tokens: chat.max_completion_tokens ?? chat.max_tokens ?? 4096,
  };
  if (system.length > 0) request.system = system.join("\n\n");
  if (chat.temperature !== undefined && chat.temperature !== null)
    request.temperature = Math.min(chat.temperature, 1);
  if (chat.top_p !== undefined && chat.top_p !== null) request.top_p = chat.top_p;
  if (chat.stop) request.stop_sequences = Array.isArray(chat.stop) ? chat.stop : [chat.stop];
  if (chat.stream) request.stream = true;
  if (chat.user) request.metadata = { user_id: String(chat.user) };
  if (Array.isArray(chat.tools) && chat.tools.length > 0) {
    request.tools = chat.tools.map((tool: Json) => ({
      name: tool.function?.name,
      description: tool.function?.description,
      input_schema: tool.function?.parameters ?? { type: "object", properties: {} },
    }));
  }
  const choice = toolChoice(chat.tool_choice, chat.parallel_tool_calls);
  if (choice && request.tools) request.tool_choice = choice;
  return request;
}
