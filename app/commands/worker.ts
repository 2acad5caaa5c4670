import { createDirectoryServices, runnableAgents } from "../../directory/index.js";
import type { Config } from "../config/index.js";
import { ConfigError } from "../config/index.js";
import { createProcessBase, openProcessContext } from "../context.js";
import { createHttpApp, createHttpMetrics, startHttpServer } from "../http/index.js";
import { openRuns, runtimeSettingsCheck } from "../runs.js";

export interface WorkerOptions {
  migrate: boolean;
  /** Serve /healthz, /readyz and /metrics on this port; unset: no HTTP listener. */
  port?: number | undefined;
}

/**
 * `switchboard worker`: takes runs from the Redis queue, apart from the web process, so
 * runs scale out by adding workers. Without Redis there is no queue to share, and
 * `switchboard serve` runs the same worker in-process.
 */
export async function worker(config: Config, options: WorkerOptions): Promise<void> {
  if (!config.REDIS_URL) {
    throw new ConfigError([
      {
        variable: "REDIS_URL",
        problem:
          "is required by `switchboard worker`, which takes runs from the Redis queue. " +
          "Without Redis, `switchboard serve` runs the worker in-process.",
      },
    ]);
  }
  const base = createProcessBase(config, "worker");
  // From the start: a worker told to stop while it still connects stops in time too.
  base.lifecycle.handleSignals();
  const ctx = await openProcessContext(config, base, { migrate: options.migrate });
  const { logger, lifecycle } = ctx;
  if (options.port !== undefined) {
    const app = createHttpApp({
      logger,
      metrics: createHttpMetrics(),
      checks: () => ctx.checks,
      isStopping: () => lifecycle.isStopping,
    });
    const http = await startHttpServer(app, { host: config.HOST, port: options.port });
    lifecycle.onStop("health server", () => http.close(1_000));
    logger.info({ url: http.url }, "worker health endpoints are up");
  }
  const directory = createDirectoryServices({
    knex: ctx.db.knex,
    authorizer: ctx.authorization.authorizer,
    access: ctx.authorization.access,
    checkRuntime: runtimeSettingsCheck(config),
  });
  const runs = await openRuns(ctx, runnableAgents(directory.registry), { consume: true });
  logger.info(
    {
      worker: runs.engine?.workerId,
      concurrency: config.RUN_CONCURRENCY,
      runtimes: runs.runtimes.types(),
    },
    "worker started: taking runs from the queue",
  );
}
