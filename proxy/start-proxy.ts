import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { closeServerGracefully } from "../core/index.js";
import type { AgentTracer } from "../governance/index.js";
import { loadProxyConfig, type ProxySettings } from "./config/load.js";
import { createModelProxy, type ModelProxy } from "./model-proxy.js";

export interface StartProxyOptions {
  /** A LiteLLM-style config.yaml; or pass `settings` already parsed. */
  configFile?: string;
  settings?: ProxySettings;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  knex?: Knex | undefined;
  logger: Logger;
  registry?: Registry;
  /** For `os.environ/NAME` references in the config; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long `close` waits for calls in flight (streams included) before cutting them. */
  drainTimeoutMs?: number;
  keyRefreshIntervalMs?: number;
  ledgerFlushIntervalMs?: number;
  /** Each model call becomes a span (OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracer?: AgentTracer | undefined;
}

export interface RunningProxy {
  url: string;
  proxy: ModelProxy;
  /** Stops taking calls, lets those in flight finish (up to drainTimeoutMs), flushes spend. */
  close(): Promise<void>;
}

/**
 * The proxy as its own HTTP server (node:http, no framework): the model endpoints, plus
 * `/healthz` and `/metrics` when it runs as `switchboard proxy`.
 */
export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const { logger } = options;
  const settings =
    options.settings ??
    loadProxyConfig(options.configFile ?? "", {
      env: options.env,
      warn: (message) => logger.warn(message),
    });
  const proxy = createModelProxy({
    settings,
    knex: options.knex,
    logger,
    registry: options.registry,
    keyRefreshIntervalMs: options.keyRefreshIntervalMs,
    ledgerFlushIntervalMs: options.ledgerFlushIntervalMs,
    tracer: options.tracer,
  });
  const registry = proxy.metrics.registry;
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    if (req.method === "GET" && req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (req.method === "GET" && req.url === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    proxy.handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  const url = `http://${host}:${port}`;
  logger.info({ url, models: settings.deployments.length }, `model proxy listening on ${url}`);
  return {
    url,
    proxy,
    async close() {
      await closeServerGracefully(server, options.drainTimeoutMs ?? 10_000);
      await proxy.close();
    },
  };
}
