import { writeFileSync } from "node:fs";

/**
 * Writes a model proxy config (LiteLLM's shape) to `path` with one model, `small`, served
 * by an OpenAI-wire upstream at `upstreamUrl` (a double, or a dead port); answers the path.
 * The upstream key is read from UPSTREAM_KEY unless given; `masterKey` lets an operator's
 * key call the proxy directly.
 */
export function writeProxyConfig(
  path: string,
  upstreamUrl: string,
  options: { upstreamKey?: string; masterKey?: string } = {},
): string {
  const lines = [
    "model_list:",
    "  - model_name: small",
    "    litellm_params:",
    "      model: openai/gpt-4o-mini",
    `      api_base: ${upstreamUrl}/v1`,
    `      api_key: ${options.upstreamKey ?? "os.environ/UPSTREAM_KEY"}`,
  ];
  if (options.masterKey) lines.push("general_settings:", `  master_key: ${options.masterKey}`);
  writeFileSync(path, lines.join("\n"));
  return path;
}
