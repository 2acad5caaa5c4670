import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { buildDeployments, type Deployment } from "./deployments.js";
import { ProxyConfigError } from "./errors.js";
import {
  knownKeysByPath,
  type ProxyConfigFile,
  proxyConfigSchema,
  type RoutingStrategy,
} from "./schema.js";

/** The routing configuration once read, resolved and validated: what the proxy runs on. */
export interface ProxySettings {
  deployments: Deployment[];
  routingStrategy: RoutingStrategy;
  /** Extra attempts on the same model group after the first fails with 429, 5xx or a reset. */
  numRetries: number;
  /** Model group -> model groups tried in order once its own deployments are exhausted. */
  fallbacks: Map<string, string[]>;
  /** Failures within a minute before a deployment sits out `cooldownMs`. */
  allowedFails: number;
  cooldownMs: number;
  masterKey: string | undefined;
  maxBodyBytes: number;
}

const ENV_PREFIX = "os.environ/";

/**
 * Replaces every `os.environ/NAME` string by the variable's value. An unset (or empty) one
 * leaves the setting unset, as LiteLLM does, with a warning naming both: a stack started
 * without one provider's key still serves the others, and a setting that is required is
 * then reported by the schema.
 */
function resolveEnvReferences(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string,
  warn: (message: string) => void,
  unset: Map<string, string>,
): unknown {
  if (typeof value === "string" && value.startsWith(ENV_PREFIX)) {
    const name = value.slice(ENV_PREFIX.length);
    const resolved = env[name];
    if (!resolved) {
      warn(`${path}: environment variable ${name} is not set; the setting is left unset.`);
      unset.set(path, name);
    }
    return resolved || undefined;
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => resolveEnvReferences(v, env, `${path}[${i}]`, warn, unset));
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        resolveEnvReferences(v, env, path ? `${path}.${k}` : k, warn, unset),
      ]),
    );
  }
  return value;
}

/** Keys the proxy does not read, by their path in the file, so a team sees what it ignores. */
export function unknownKeys(raw: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown, pattern: string, path: string) => {
    const known = knownKeysByPath[pattern];
    if (!known || !value || typeof value !== "object" || Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      const childPattern = pattern ? `${pattern}.${key}` : key;
      if (!known.includes(key)) found.push(childPath);
      else if (Array.isArray(child)) {
        for (const [i, item] of child.entries())
          visit(item, `${childPattern}.*`, `${childPath}[${i}]`);
      } else visit(child, childPattern, childPath);
    }
  };
  visit(raw, "", "");
  return found;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join(".") || "(file)"}: ${issue.message}`)
    .join("; ");
}

function toSettings(file: ProxyConfigFile): ProxySettings {
  const router = file.router_settings ?? {};
  const litellm = file.litellm_settings ?? {};
  const general = file.general_settings ?? {};
  const timeoutSeconds = router.timeout ?? litellm.request_timeout ?? 600;
  const deployments = buildDeployments(file.model_list, {
    timeoutMs: timeoutSeconds * 1000,
    streamTimeoutMs: (router.stream_timeout ?? timeoutSeconds) * 1000,
  });
  const groups = new Set(deployments.map((d) => d.modelName));
  const fallbacks = new Map<string, string[]>();
  for (const rule of [...(router.fallbacks ?? []), ...(litellm.fallbacks ?? [])]) {
    for (const [from, to] of Object.entries(rule)) {
      for (const name of [from, ...to]) {
        if (!groups.has(name)) {
          throw new ProxyConfigError(`fallbacks: "${name}" is not a model_name in model_list.`);
        }
      }
      fallbacks.set(from, [...(fallbacks.get(from) ?? []), ...to]);
    }
  }
  return {
    deployments,
    routingStrategy: router.routing_strategy ?? "simple-shuffle",
    numRetries: router.num_retries ?? litellm.num_retries ?? 2,
    fallbacks,
    allowedFails: router.allowed_fails ?? 3,
    cooldownMs: (router.cooldown_time ?? 5) * 1000,
    masterKey: general.master_key,
    maxBodyBytes: Math.round((general.max_request_size_mb ?? 4) * 1024 * 1024),
  };
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Told about each key the proxy ignores. */
  warn?: (message: string) => void;
}

/** Parses a config already read (YAML or JSON text, or an object). */
export function parseProxyConfig(
  source: string | object,
  options: LoadOptions = {},
): ProxySettings {
  let raw: unknown;
  try {
    raw = typeof source === "string" ? parseYaml(source) : source;
  } catch (error) {
    throw new ProxyConfigError(`the file is not valid YAML: ${(error as Error).message}`);
  }
  for (const key of unknownKeys(raw)) {
    options.warn?.(`${key} is not supported by the Switchboard proxy and is ignored.`);
  }
  const unset = new Map<string, string>();
  const resolved = resolveEnvReferences(
    raw,
    options.env ?? process.env,
    "",
    options.warn ?? (() => {}),
    unset,
  );
  const parsed = proxyConfigSchema.safeParse(resolved);
  if (!parsed.success) throw new ProxyConfigError(describeIssues(parsed.error));
  const settings = toSettings(parsed.data);
  // A deployment whose key variable is unset is refused at call time, naming the variable,
  // rather than sent upstream without a key.
  for (const [index, deployment] of settings.deployments.entries()) {
    const variable = unset.get(`model_list[${index}].litellm_params.api_key`);
    if (variable && !deployment.apiKey) deployment.unsetApiKeyVariable = variable;
  }
  return settings;
}

export function loadProxyConfig(file: string, options: LoadOptions = {}): ProxySettings {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ProxyConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return parseProxyConfig(text, options);
  } catch (error) {
    if (error instanceof ProxyConfigError) throw new ProxyConfigError(`${file}: ${error.message}`);
    throw error;
  }
}
