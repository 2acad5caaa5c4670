import type { Deployment } from "../config/deployments.js";
import { ProxyError } from "../errors.js";
import { openaiUsage } from "../spend/usage.js";
import { anthropicToOpenaiRequest } from "../translate/anthropic-to-openai-request.js";
import type { Json } from "../translate/json.js";
import { openaiToAnthropicResponse } from "../translate/openai-to-anthropic-response.js";
import { OpenaiToAnthropicStream } from "../translate/openai-to-anthropic-stream.js";
import { type ClientCall, type UpstreamPlan, withFields, withModel } from "./upstream-plan.js";

/** OpenAI, any OpenAI-compatible server, and Azure OpenAI (same wire, other paths and auth). */

const PATHS = {
  chat: "/chat/completions",
  responses: "/responses",
  embeddings: "/embeddings",
} as const;

type Target = { path: string; headers: Record<string, string> };

/** Paths and headers depend only on the deployment and endpoint: made once, then reused. */
const targets = new WeakMap<Deployment, Map<string, Target>>();

function target(deployment: Deployment, endpoint: keyof typeof PATHS): Target {
  let byEndpoint = targets.get(deployment);
  if (!byEndpoint) {
    byEndpoint = new Map();
    targets.set(deployment, byEndpoint);
  }
  let made = byEndpoint.get(endpoint);
  if (!made) {
    made = makeTarget(deployment, endpoint);
    byEndpoint.set(endpoint, made);
  }
  return made;
}

function makeTarget(deployment: Deployment, endpoint: keyof typeof PATHS): Target {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (deployment.provider === "azure") {
    if (endpoint === "responses") {
      throw new ProxyError(
        "unsupported_endpoint",
        "The Responses API is not routed to Azure deployments yet.",
      );
    }
    if (deployment.apiKey) headers["api-key"] = deployment.apiKey;
    const model = encodeURIComponent(deployment.upstreamModel);
    return {
      path: `${deployment.basePath}/openai/deployments/${model}${PATHS[endpoint]}?api-version=${deployment.apiVersion}`,
      headers,
    };
  }
  if (deployment.apiKey) headers.authorization = `Bearer ${deployment.apiKey}`;
  return { path: `${deployment.basePath}${PATHS[endpoint]}`, headers };
}

const usageFromJson = (json: Json) => openaiUsage(json?.usage);
/** Chat chunks carry `usage`; Responses events carry it in `response.completed`. */
const usageFromEvent = (json: Json) => openaiUsage(json?.usage ?? json?.response?.usage);

export function openaiPlan(call: ClientCall, deployment: Deployment): UpstreamPlan {
  if (call.endpoint === "count_tokens") {
    throw new ProxyError(
      "unsupported_endpoint",
      "count_tokens is only available for Anthropic models.",
    );
  }
  if (call.endpoint === "messages") {
    const { path, headers } = target(deployment, "chat");
    const chat = anthropicToOpenaiRequest(call.body, deployment.upstreamModel);
    const modelName = call.modelName;
    return {
      request: {
        origin: deployment.origin,
        path,
        method: "POST",
        headers,
        body: JSON.stringify(chat),
      },
      upstreamDialect: "openai",
      translateJson: (json) => openaiToAnthropicResponse(json, modelName),
      streamTranslator: call.stream ? () => new OpenaiToAnthropicStream(modelName) : undefined,
      streamFramer: undefined,
      usageFromJson,
      usageFromEvent,
      dropUsageChunk: false,
    };
  }
  const { path, headers } = target(deployment, call.endpoint);
  let body: string | Buffer;
  let dropUsageChunk = false;
  // Streamed chat reports usage only when asked; ask, and hide the extra chunk if the client did not.
  if (call.endpoint === "chat" && call.stream && call.body.stream_options?.include_usage !== true) {
    dropUsageChunk = true;
    body = JSON.stringify(
      withFields(call.body, {
        model: deployment.upstreamModel,
        stream_options: withFields(call.body.stream_options ?? {}, { include_usage: true }),
      }),
    );
  } else {
    body = withModel(call, deployment.upstreamModel);
  }
  return {
    request: { origin: deployment.origin, path, method: "POST", headers, body },
    upstreamDialect: "openai",
    translateJson: undefined,
    streamTranslator: undefined,
    streamFramer: undefined,
    usageFromJson,
    usageFromEvent,
    dropUsageChunk,
  };
}
