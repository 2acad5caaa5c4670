import type { Knex } from "knex";
import pino from "pino";
import { parseProxyConfig } from "../config/load.js";
import { type RunningProxy, startProxy } from "../start-proxy.js";

/** The master key every test config carries. */
export const MASTER_KEY = "sk-test-master";

/** A proxy on a free loopback port, for tests: silent logs, fast key refresh and ledger flush. */
export async function startTestProxy(
  config: Record<string, unknown>,
  options: { knex?: Knex; warnings?: string[]; ledgerFlushIntervalMs?: number } = {},
): Promise<RunningProxy> {
  const settings = parseProxyConfig(
    { general_settings: { master_key: MASTER_KEY }, ...config },
    { env: {}, warn: (message) => options.warnings?.push(message) },
  );
  return startProxy({
    settings,
    port: 0,
    knex: options.knex,
    logger: pino({ level: "silent" }),
    keyRefreshIntervalMs: 100,
    ledgerFlushIntervalMs: options.ledgerFlushIntervalMs ?? 50,
    drainTimeoutMs: 1000,
  });
}

/** One model group served by one deployment on the given double. */
export function oneModel(
  modelName: string,
  model: string,
  apiBase: string,
  extra: Record<string, unknown> = {},
) {
  return {
    model_name: modelName,
    litellm_params: { model, api_base: apiBase, api_key: "upstream-secret", ...extra },
  };
}
