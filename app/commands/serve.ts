import {
  API_BASE,
  createDefaultDirectoryApi,
  createDirectoryServices,
  ensureDemoAgent,
} from "../../directory/index.js";
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
  const directory = createDirectoryServices({
    knex: ctx.db.knex,
    authorizer: ctx.authorization.authorizer,
    access: ctx.authorization.access,
  });
  // A newcomer's catalog is not empty: on the embedded default only, and only once.
  if (ctx.db.kind === "pglite" && (await ensureDemoAgent(directory.registry))) {
    logger.info("registered the built-in demo agent");
  }

  const app = createHttpApp({
    logger,
    metrics: createHttpMetrics(),
    checks: () => ctx.checks,
    isStopping: () => lifecycle.isStopping,
    mount(app) {
      app.use(API_BASE, createDefaultDirectoryApi(directory));
    },
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
