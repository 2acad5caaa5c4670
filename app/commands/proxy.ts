import { startProxy } from "../../proxy/index.js";
import type { Config } from "../config/index.js";
import { createProcessBase } from "../context.js";
import { migrateLatest, openDatabase } from "../db/index.js";
import { openTracer } from "../tracing.js";

export interface ProxyOptions {
  /** A LiteLLM-style config.yaml. */
  configFile: string;
  port: number;
  migrate: boolean;
}

/**
 * `switchboard proxy`: the model gateway as a process of its own (node:http and undici, no
 * framework on the request path). It needs the database for virtual keys and the ledger,
 * and nothing else of Switchboard's.
 */
export async function proxy(config: Config, options: ProxyOptions): Promise<void> {
  const { logger, lifecycle } = createProcessBase(config, "proxy");
  // From the start: a proxy told to stop while it still connects stops in time too.
  lifecycle.handleSignals();
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.SWITCHBOARD_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    logger,
  });
  lifecycle.onStop("database", () => db.close());
  if (options.migrate) await migrateLatest(db);
  const running = await startProxy({
    configFile: options.configFile,
    host: config.HOST,
    port: options.port,
    knex: db.knex,
    logger,
    drainTimeoutMs: Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2),
    tracer: openTracer(config, { logger, lifecycle }),
  });
  // Stops before the database: calls in flight finish and their spend is flushed first.
  lifecycle.onStop("model proxy", () => running.close());
}
