import { appendTurn, contentText, type Json, parseArguments } from "./json.js";

/**
 * An OpenAI chat completion request as a Bedrock Converse request. (Anthropic-dialect
 * requests reach Converse through this too, after becoming OpenAI chat.)
 */

function imageBlock(url: string): Json {
  const match = /^data:image\/(\w+);base64,(.*)$/s.exec(url);
  if (!match) return { text: `[image: ${url}]` };
  return { image: { format: match[1] === "jpg" ? "jpeg" : match[1], source: { bytes: match[2] } } };
}

function userBlocks(content: Json): Json[] {
  if (typeof content === "string") return [{ text: content }];
  if (!Array.isArray(content)) return [];
  return content.map((part: Json) =>
    part?.type === "image_url"
      ? imageBlock(typeof part.image_url === "string" ? part.image_url : part.image_url?.url)
      : { text: part?.text ?? "" },
  );
}

function assistantBlocks(message: Json): Json[] {
  const blocks: Json[] = [];
  const text = contentText(message.content);
  if (text) blocks.push({ text });
  for (const call of message.tool_calls ?? []) {
    blocks.push({
      toolUse: {
        toolUseId: call.id,
        name: call.function?.name,
        input: parseArguments(call.function?.arguments),
      },
    });
  }
  return blocks;
}

function toolChoice(choice: Json): Json {
  if (choice === "required") return { any: {} };
  if (choice && typeof choice === "object") return { tool: { name: choice.function?.name } };
  if (choice === "auto") return { auto: {} };
  return undefined;
}

export function openaiToConverseRequest(chat: Json): Json {
  const system: Json[] = [];
  const messages: Json[] = [];
  const push = (role: "user" | "assistant", blocks: Json[]) => appendTurn(messages, role, blocks);
  for (const message of chat.messages ?? []) {
    if (message.role === "system" || message.role === "developer")
      system.push({ text: contentText(message.content) });
    else if (message.role === "assistant") push("assistant", assistantBlocks(message));
    else if (message.role === "tool") {
      push("user", [
        {
          toolResult: {
            toolUseId: message.tool_call_id,
            content: [{ text: contentText(message.content) }],
          },
        },
      ]);
    } else push("user", userBlocks(message.content));
  }
  const request: Json = { messages };
  if (system.length > 0) request.system = system;
  const inference: Json = {};
  const maxTokens = chat.max_completion_tokens ?? chat.max_tokens;
  if (maxTokens) inference.maxTokens = maxTokens;
  if (typeof chat.temperature === "number") inference.temperature = chat.temperature;
  if (typeof chat.top_p === "number") inference.topP = chat.top_p;
  if (chat.stop) inference.stopSequences = Array.isArray(chat.stop) ? chat.stop : [chat.stop];
  if (Object.keys(inference).length > 0) request.inferenceConfig = inference;
  if (Array.isArray(chat.tools) && chat.tools.length > 0) {
    request.toolConfig = {
      tools: chat.tools.map((tool: Json) => ({
        toolSpec: {
          name: tool.function?.name,
          description: tool.function?.description,
          inputSchema: { json: tool.function?.parameters ?? { type: "object", properties: {} } },
        },
      })),
    };
    const choice = toolChoice(chat.tool_choice);
    if (choice) request.toolConfig.toolChoice = choice;
  }
  return request;
}
