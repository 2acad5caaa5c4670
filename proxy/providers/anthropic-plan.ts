import type { Deployment } from "../config/deployments.js";
import { ProxyError } from "../errors.js";
import { anthropicUsage } from "../spend/usage.js";
import { anthropicToOpenaiResponse } from "../translate/anthropic-to-openai-response.js";
import { AnthropicToOpenaiStream } from "../translate/anthropic-to-openai-stream.js";
import type { Json } from "../translate/json.js";
import { openaiToAnthropicRequest } from "../translate/openai-to-anthropic-request.js";
import { type ClientCall, type UpstreamPlan, withModel } from "./upstream-plan.js";

const DEFAULT_VERSION = "2023-06-01";

const usageFromJson = (json: Json) => anthropicUsage(json?.usage);
/** `message_start` carries the input count, `message_delta` the output count. */
const usageFromEvent = (json: Json) => anthropicUsage(json?.message?.usage ?? json?.usage);
const noUsage = () => null;

export function anthropicPlan(call: ClientCall, deployment: Deployment): UpstreamPlan {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "anthropic-version": call.anthropicVersion ?? DEFAULT_VERSION,
  };
  if (deployment.apiKey) headers["x-api-key"] = deployment.apiKey;
  if (call.anthropicBeta) headers["anthropic-beta"] = call.anthropicBeta;

  if (call.endpoint === "messages" || call.endpoint === "count_tokens") {
    const suffix = call.endpoint === "messages" ? "/v1/messages" : "/v1/messages/count_tokens";
    return {
      request: {
        origin: deployment.origin,
        path: `${deployment.basePath}${suffix}`,
        method: "POST",
        headers,
        body: withModel(call, deployment.upstreamModel),
      },
      upstreamDialect: "anthropic",
      translateJson: undefined,
      streamTranslator: undefined,
      streamFramer: undefined,
      // count_tokens answers with a count, not usage: it costs nothing.
      usageFromJson: call.endpoint === "messages" ? usageFromJson : noUsage,
      usageFromEvent,
      dropUsageChunk: false,
    };
  }
  if (call.endpoint !== "chat") {
    throw new ProxyError(
      "unsupported_endpoint",
      `/${call.endpoint} is not available for Anthropic models.`,
    );
  }
  const modelName = call.modelName;
  const includeUsage = call.body.stream_options?.include_usage === true;
  return {
    request: {
      origin: deployment.origin,
      path: `${deployment.basePath}/v1/messages`,
      method: "POST",
      headers,
      body: JSON.stringify(openaiToAnthropicRequest(call.body, deployment.upstreamModel)),
    },
    upstreamDialect: "anthropic",
    translateJson: (json) => anthropicToOpenaiResponse(json, modelName),
    streamTranslator: call.stream
      ? () => new AnthropicToOpenaiStream(modelName, includeUsage)
      : undefined,
    streamFramer: undefined,
    usageFromJson,
    usageFromEvent,
    dropUsageChunk: false,
  };
}
