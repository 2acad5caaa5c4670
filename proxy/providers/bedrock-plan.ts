import { randomUUID } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentials, Deployment } from "../config/deployments.js";
import { ProxyError } from "../errors.js";
import { converseUsage } from "../spend/usage.js";
import { anthropicToOpenaiRequest } from "../translate/anthropic-to-openai-request.js";
import { ChainedStream } from "../translate/chained-stream.js";
import {
  ConverseToOpenaiStream,
  converseToOpenaiResponse,
} from "../translate/converse-to-openai.js";
import type { Json } from "../translate/json.js";
import { openaiToAnthropicResponse } from "../translate/openai-to-anthropic-response.js";
import { OpenaiToAnthropicStream } from "../translate/openai-to-anthropic-stream.js";
import { openaiToConverseRequest } from "../translate/openai-to-converse-request.js";
import { EventStreamDecoder } from "../upstream/event-stream-decoder.js";
import type { ClientCall, UpstreamPlan } from "./upstream-plan.js";

const usageOf = (json: Json) => converseUsage(json?.usage);

/** One signer per set of credentials: building one derives keys we can reuse. */
const signers = new WeakMap<AwsCredentials, SignatureV4>();

function signerFor(aws: AwsCredentials): SignatureV4 {
  let signer = signers.get(aws);
  if (!signer) {
    signer = new SignatureV4({
      credentials: {
        accessKeyId: aws.accessKeyId,
        secretAccessKey: aws.secretAccessKey,
        sessionToken: aws.sessionToken,
      },
      region: aws.region,
      service: "bedrock",
      sha256: Hash.bind(null, "sha256"),
    });
    signers.set(aws, signer);
  }
  return signer;
}

/**
 * Bedrock's Converse API (ConverseStream when streaming), signed with SigV4. Both client
 * dialects are served: OpenAI chat directly, Anthropic messages through OpenAI chat.
 */
export async function bedrockPlan(call: ClientCall, deployment: Deployment): Promise<UpstreamPlan> {
  if (call.endpoint !== "chat" && call.endpoint !== "messages") {
    throw new ProxyError(
      "unsupported_endpoint",
      `/${call.endpoint} is not available for Bedrock models.`,
    );
  }
  const aws = deployment.aws as AwsCredentials;
  const modelName = call.modelName;
  const chat =
    call.endpoint === "messages"
      ? anthropicToOpenaiRequest(call.body, deployment.upstreamModel)
      : call.body;
  const body = JSON.stringify(openaiToConverseRequest(chat));
  const action = call.stream ? "converse-stream" : "converse";
  const path = `${deployment.basePath}/model/${encodeURIComponent(deployment.upstreamModel)}/${action}`;
  const url = new URL(deployment.origin);
  const signed = await signerFor(aws).sign({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path,
    headers: { host: url.host, "content-type": "application/json", accept: "application/json" },
    body,
  });
  const id = `chatcmpl-${randomUUID()}`;
  const includeUsage = call.body.stream_options?.include_usage === true;
  const anthropicClient = call.endpoint === "messages";
  return {
    request: { origin: deployment.origin, path, method: "POST", headers: signed.headers, body },
    upstreamDialect: "bedrock",
    translateJson: (json) => {
      const completion = converseToOpenaiResponse(json, modelName, id);
      return anthropicClient ? openaiToAnthropicResponse(completion, modelName) : completion;
    },
    streamTranslator: call.stream
      ? () =>
          anthropicClient
            ? new ChainedStream(
                new ConverseToOpenaiStream(modelName, id, true),
                new OpenaiToAnthropicStream(modelName),
              )
            : new ConverseToOpenaiStream(modelName, id, includeUsage)
      : undefined,
    streamFramer: () => new EventStreamDecoder(),
    usageFromJson: usageOf,
    usageFromEvent: usageOf,
    dropUsageChunk: false,
  };
}
