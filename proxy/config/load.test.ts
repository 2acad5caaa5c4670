import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProxyConfig, parseProxyConfig } from "./load.js";

const LITELLM_CONFIG = `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      rpm: 600
      tpm: 100000
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-eu
      api_base: https://eu.openai.azure.com
      api_key: os.environ/AZURE_API_KEY
      api_version: "2024-10-21"
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-20250514
      api_key: os.environ/ANTHROPIC_API_KEY
    model_info:
      input_cost_per_token: 0.000003
      output_cost_per_token: 0.000015
  - model_name: claude-bedrock
    litellm_params:
      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0
      aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/AWS_SECRET_ACCESS_KEY
      aws_region_name: us-east-1
  - model_name: local
    litellm_params:
      model: openai/llama-3
      api_base: http://127.0.0.1:8000/v1
      drop_params: true
router_settings:
  routing_strategy: least-busy
  num_retries: 3
  timeout: 30
  fallbacks: [{"gpt-4o": ["claude"]}]
  redis_host: localhost
litellm_settings:
  drop_params: true
  fallbacks: [{"claude": ["claude-bedrock"]}]
general_settings:
  master_key: sk-1234
  database_url: postgres://elsewhere
`;

const env = {
  OPENAI_API_KEY: "sk-openai",
  AZURE_API_KEY: "az-key",
  ANTHROPIC_API_KEY: "sk-ant",
  AWS_ACCESS_KEY_ID: "AKIA",
  AWS_SECRET_ACCESS_KEY: "secret",
};

describe("the LiteLLM-style routing config", () => {
  it("reads a LiteLLM config.yaml: providers, keys from the environment, routing, fallbacks, master key", () => {
    const warnings: string[] = [];
    const settings = parseProxyConfig(LITELLM_CONFIG, { env, warn: (m) => warnings.push(m) });
    expect(
      settings.deployments.map((d) => [
        d.modelName,
        d.provider,
        d.upstreamModel,
        d.origin,
        d.basePath,
      ]),
    ).toEqual([
      ["gpt-4o", "openai", "gpt-4o", "https://api.openai.com", "/v1"],
      ["gpt-4o", "azure", "gpt-4o-eu", "https://eu.openai.azure.com", ""],
      ["claude", "anthropic", "claude-sonnet-4-20250514", "https://api.anthropic.com", ""],
      [
        "claude-bedrock",
        "bedrock",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        "",
      ],
      ["local", "openai", "llama-3", "http://127.0.0.1:8000", "/v1"],
    ]);
    const [openai, azure, claude, bedrock] = settings.deployments;
    expect(openai).toMatchObject({ apiKey: "sk-openai", rpm: 600, tpm: 100000, timeoutMs: 30_000 });
    expect(azure).toMatchObject({ apiKey: "az-key", apiVersion: "2024-10-21" });
    expect(claude?.price).toMatchObject({ inputPerToken: 0.000003, outputPerToken: 0.000015 });
    expect(bedrock?.aws).toMatchObject({
      accessKeyId: "AKIA",
      secretAccessKey: "secret",
      region: "us-east-1",
    });
    expect(settings.routingStrategy).toBe("least-busy");
    expect(settings.numRetries).toBe(3);
    expect([...settings.fallbacks]).toEqual([
      ["gpt-4o", ["claude"]],
      ["claude", ["claude-bedrock"]],
    ]);
    expect(settings.masterKey).toBe("sk-1234");
  });

  it("warns about every key it does not read, by its path", () => {
    const warnings: string[] = [];
    parseProxyConfig(LITELLM_CONFIG, { env, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([
      "model_list[4].litellm_params.drop_params is not supported by the Switchboard proxy and is ignored.",
      "router_settings.redis_host is not supported by the Switchboard proxy and is ignored.",
      "litellm_settings.drop_params is not supported by the Switchboard proxy and is ignored.",
      "general_settings.database_url is not supported by the Switchboard proxy and is ignored.",
    ]);
  });

  it("leaves a setting whose variable is unset unset, and says so; a required one stops start-up", () => {
    const warnings: string[] = [];
    const settings = parseProxyConfig(LITELLM_CONFIG, {
      env: { ...env, AZURE_API_KEY: "" },
      warn: (m) => warnings.push(m),
    });
    expect(settings.deployments[1]?.apiKey).toBeUndefined();
    expect(warnings).toContain(
      "model_list[1].litellm_params.api_key: environment variable AZURE_API_KEY is not set; the setting is left unset.",
    );
    const required = {
      model_list: [{ model_name: "x", litellm_params: { model: "os.environ/MODEL" } }],
    };
    expect(() => parseProxyConfig(required, { env: {} })).toThrow(
      /model_list\.0\.litellm_params\.model/,
    );
  });

  it("names a bad setting", () => {
    const bad =
      (model_list: unknown, extra: object = {}) =>
      () =>
        parseProxyConfig({ model_list, ...extra }, { env });
    expect(bad([{ model_name: "x", litellm_params: { model: "vertex_ai/gemini" } }])).toThrow(
      /model_list\[0\]\.litellm_params\.model: provider "vertex_ai" is not supported/,
    );
    expect(bad([{ model_name: "x", litellm_params: { model: "openai/x", rpm: -1 } }])).toThrow(
      /model_list\.0\.litellm_params\.rpm/,
    );
    expect(
      bad([{ model_name: "x", litellm_params: { model: "openai/x" } }], {
        router_settings: { fallbacks: [{ x: ["y"] }] },
      }),
    ).toThrow(/fallbacks: "y" is not a model_name/);
    expect(bad([{ model_name: "x", litellm_params: { model: "azure/x" } }])).toThrow(
      /api_base: azure needs/,
    );
    expect(bad([])).toThrow(/model_list/);
  });

  it("names the file it cannot read", () => {
    expect(() => loadProxyConfig("/nonexistent/config.yaml")).toThrow(
      /cannot read \/nonexistent\/config.yaml/,
    );
    const dir = mkdtempSync(join(tmpdir(), "proxy-config-"));
    const file = join(dir, "config.yaml");
    writeFileSync(file, "model_list: [\n");
    expect(() => loadProxyConfig(file)).toThrow(/config.yaml: the file is not valid YAML/);
  });
});
