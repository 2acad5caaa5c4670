import type { Config } from "../config/index.js";
import { openProcessContext } from "../context.js";
import { createHttpApp, createHttpMetrics, startHttpServer } from "../http/index.js";

export interface ServeOptions {
  migrate: boolean;
}

/**
 * `switchboard serve`: the HTTP server (site, API, bot endpoints). On the embedded default
 * (no REDIS_URL) it is the whole of Switchboard in one process.
 */
export async function serve(config: Config, options: ServeOptions): Promise<void> {
  const ctx = await openProcessContext(config, { name: "web", migrate: options.migrate });
  const { logger, lifecycle } = ctx;

  const app = createHttpApp({
    logger,
    metrics: createHttpMetrics(),
    checks: () => ctx.checks,
    isStopping: () => lifecycle.isStopping,
  });
  const http = await startHttpServer(app, { host: config.HOST, port: config.PORT });
  // Registered last, so it stops first: no new requests while the rest winds down.
  lifecycle.onStop("http server", () => http.close(Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2)));
  lifecycle.handleSignals();

  logger.info(
    { url: http.url, database: ctx.db.kind, queue: config.REDIS_URL ? "redis" : "in-process" },
    `Switchboard is serving on ${http.url}`,
  );
}
