import { ProxyConfigError } from "./errors.js";
import type { ModelEntry } from "./schema.js";

export type ProviderKind = "openai" | "anthropic" | "azure" | "bedrock";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  region: string;
}

/** Per-token prices that win over the price package (model_info or litellm_params). */
export interface PriceOverride {
  inputPerToken: number;
  outputPerToken: number;
  cacheReadPerToken: number | undefined;
  cacheWritePerToken: number | undefined;
}

/** One upstream that can serve a model group: the unit the router picks and cools down. */
export interface Deployment {
  id: string;
  /** The model group clients ask for (`model_name`). */
  modelName: string;
  provider: ProviderKind;
  /** The upstream's own model id (the part after the provider prefix). */
  upstreamModel: string;
  /** Scheme, host and port, e.g. `https://api.openai.com`: what undici pools by. */
  origin: string;
  /** Path before the endpoint's own, e.g. `/v1` for OpenAI; no trailing slash. */
  basePath: string;
  apiKey: string | undefined;
  /** The environment variable `api_key` names (`os.environ/NAME`) when it was not set. */
  unsetApiKeyVariable?: string | undefined;
  apiVersion: string | undefined;
  aws: AwsCredentials | undefined;
  rpm: number | undefined;
  tpm: number | undefined;
  weight: number;
  timeoutMs: number;
  streamTimeoutMs: number;
  price: PriceOverride | undefined;
}

const DEFAULT_BASE: Record<Exclude<ProviderKind, "azure" | "bedrock">, string> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com",
};

/** `openai/gpt-4o` -> openai; an unprefixed name is inferred the way LiteLLM does. */
function splitProvider(
  model: string,
  path: string,
): { provider: ProviderKind; upstreamModel: string } {
  const slash = model.indexOf("/");
  if (slash > 0) {
    const prefix = model.slice(0, slash);
    const rest = model.slice(slash + 1);
    if (prefix === "openai" || prefix === "anthropic" || prefix === "azure") {
      return { provider: prefix, upstreamModel: rest };
    }
    if (prefix === "bedrock") {
      return { provider: "bedrock", upstreamModel: rest.replace(/^converse\//, "") };
    }
    throw new ProxyConfigError(
      `${path}: provider "${prefix}" is not supported; use openai, anthropic, azure or bedrock (openai/ with api_base for any OpenAI-compatible server).`,
    );
  }
  if (/^claude/.test(model)) return { provider: "anthropic", upstreamModel: model };
  if (/^(gpt|o\d|text-embedding|chatgpt)/.test(model))
    return { provider: "openai", upstreamModel: model };
  throw new ProxyConfigError(
    `${path}: cannot tell the provider of "${model}"; prefix it, e.g. openai/${model}.`,
  );
}

function splitBase(base: string): { origin: string; basePath: string } {
  const url = new URL(base);
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, "") };
}

function awsCredentials(params: ModelEntry["litellm_params"], path: string): AwsCredentials {
  const { aws_access_key_id, aws_secret_access_key, aws_region_name } = params;
  if (!aws_access_key_id || !aws_secret_access_key || !aws_region_name) {
    throw new ProxyConfigError(
      `${path}: bedrock needs aws_access_key_id, aws_secret_access_key and aws_region_name.`,
    );
  }
  return {
    accessKeyId: aws_access_key_id,
    secretAccessKey: aws_secret_access_key,
    sessionToken: params.aws_session_token,
    region: aws_region_name,
  };
}

function priceOverride(entry: ModelEntry): PriceOverride | undefined {
  const info = entry.model_info ?? {};
  const input = info.input_cost_per_token ?? entry.litellm_params.input_cost_per_token;
  const output = info.output_cost_per_token ?? entry.litellm_params.output_cost_per_token;
  if (input === undefined && output === undefined) return undefined;
  return {
    inputPerToken: input ?? 0,
    outputPerToken: output ?? 0,
    cacheReadPerToken: info.cache_read_input_token_cost,
    cacheWritePerToken: info.cache_creation_input_token_cost,
  };
}

export function buildDeployments(
  entries: ModelEntry[],
  defaults: { timeoutMs: number; streamTimeoutMs: number },
): Deployment[] {
  return entries.map((entry, index) => {
    const path = `model_list[${index}].litellm_params`;
    const params = entry.litellm_params;
    const { provider, upstreamModel } = splitProvider(params.model, `${path}.model`);
    let base: string;
    if (provider === "azure") {
      if (!params.api_base)
        throw new ProxyConfigError(`${path}.api_base: azure needs the resource's URL.`);
      base = params.api_base;
    } else if (provider === "bedrock") {
      base = params.api_base ?? `https://bedrock-runtime.${params.aws_region_name}.amazonaws.com`;
    } else {
      base = params.api_base ?? DEFAULT_BASE[provider];
    }
    const timeoutMs = params.timeout ? params.timeout * 1000 : defaults.timeoutMs;
    return {
      id: entry.model_info?.id ?? `${entry.model_name}#${index}`,
      modelName: entry.model_name,
      provider,
      upstreamModel,
      ...splitBase(base),
      apiKey: params.api_key,
      apiVersion: params.api_version ?? (provider === "azure" ? "2024-10-21" : undefined),
      aws: provider === "bedrock" ? awsCredentials(params, path) : undefined,
      rpm: params.rpm,
      tpm: params.tpm,
      weight: params.weight ?? 1,
      timeoutMs,
      streamTimeoutMs: params.stream_timeout
        ? params.stream_timeout * 1000
        : defaults.streamTimeoutMs,
      price: priceOverride(entry),
    };
  });
}
