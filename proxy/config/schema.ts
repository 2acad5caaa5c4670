import { z } from "zod";

/**
 * The routing configuration, in LiteLLM's `config.yaml` shape so a team can bring its file
 * over unchanged. Only the keys listed here are read; every other key is reported by
 * `unknownKeys` (see load.ts) and ignored, never silently.
 */

const secret = z.string().min(1);
const positiveInt = z.coerce.number().int().positive();
const seconds = z.coerce.number().positive();

export const litellmParamsSchema = z.object({
  model: z.string().min(1),
  api_base: z.string().url().optional(),
  api_key: secret.optional(),
  api_version: z.string().optional(),
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
  weight: z.coerce.number().positive().optional(),
  timeout: seconds.optional(),
  stream_timeout: seconds.optional(),
  max_retries: z.coerce.number().int().min(0).optional(),
  aws_access_key_id: secret.optional(),
  aws_secret_access_key: secret.optional(),
  aws_session_token: secret.optional(),
  aws_region_name: z.string().optional(),
  input_cost_per_token: z.coerce.number().min(0).optional(),
  output_cost_per_token: z.coerce.number().min(0).optional(),
});

export const modelInfoSchema = z.object({
  id: z.string().optional(),
  input_cost_per_token: z.coerce.number().min(0).optional(),
  output_cost_per_token: z.coerce.number().min(0).optional(),
  cache_read_input_token_cost: z.coerce.number().min(0).optional(),
  cache_creation_input_token_cost: z.coerce.number().min(0).optional(),
});

export const modelEntrySchema = z.object({
  model_name: z.string().min(1),
  litellm_params: litellmParamsSchema,
  model_info: modelInfoSchema.optional(),
});

/** `[{ "gpt-4o": ["claude-sonnet"] }]`, as LiteLLM writes fallbacks. */
const fallbacksSchema = z.array(z.record(z.string(), z.array(z.string())));

export const routingStrategies = [
  "simple-shuffle",
  "least-busy",
  "usage-based-routing",
  "usage-based-routing-v2",
  "latency-based-routing",
] as const;

export const routerSettingsSchema = z.object({
  routing_strategy: z.enum(routingStrategies).optional(),
  num_retries: z.coerce.number().int().min(0).optional(),
  timeout: seconds.optional(),
  stream_timeout: seconds.optional(),
  fallbacks: fallbacksSchema.optional(),
  allowed_fails: z.coerce.number().int().min(0).optional(),
  cooldown_time: z.coerce.number().min(0).optional(),
});

export const litellmSettingsSchema = z.object({
  num_retries: z.coerce.number().int().min(0).optional(),
  request_timeout: seconds.optional(),
  fallbacks: fallbacksSchema.optional(),
});

export const generalSettingsSchema = z.object({
  master_key: secret.optional(),
  max_request_size_mb: z.coerce.number().positive().optional(),
});

export const proxyConfigSchema = z.object({
  model_list: z.array(modelEntrySchema).min(1),
  router_settings: routerSettingsSchema.optional(),
  litellm_settings: litellmSettingsSchema.optional(),
  general_settings: generalSettingsSchema.optional(),
});

export type ProxyConfigFile = z.infer<typeof proxyConfigSchema>;
export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type RoutingStrategy = (typeof routingStrategies)[number];

/** The object schemas whose keys are known, by their path in the file ("*" is any index). */
export const knownKeysByPath: Record<string, readonly string[]> = {
  "": Object.keys(proxyConfigSchema.shape),
  "model_list.*": Object.keys(modelEntrySchema.shape),
  "model_list.*.litellm_params": Object.keys(litellmParamsSchema.shape),
  "model_list.*.model_info": Object.keys(modelInfoSchema.shape),
  router_settings: Object.keys(routerSettingsSchema.shape),
  litellm_settings: Object.keys(litellmSettingsSchema.shape),
  general_settings: Object.keys(generalSettingsSchema.shape),
};
