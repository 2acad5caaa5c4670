import {
  A2aRuntime,
  ClaudeManagedAgentsRuntime,
  DemoRuntime,
  environmentSecrets,
  HttpRuntime,
  N8nRuntime,
  RuntimeRegistry,
} from "../runtimes/index.js";
import {
  type AgentSource,
  BullMqQueue,
  InProcessQueue,
  LocalRunSignals,
  RedisRunSignals,
  RunEngine,
  type RunQueue,
  type RunSignals,
  RunsService,
} from "../sessions/index.js";
import type { Config } from "./config/index.js";
import type { ProcessContext } from "./context.js";

/** Every runtime adapter this build drives, by manifest `spec.runtime.type`. */
export function defaultRuntimes(): RuntimeRegistry {
  return new RuntimeRegistry([
    new DemoRuntime(),
    new A2aRuntime(),
    new HttpRuntime(),
    new N8nRuntime(),
    new ClaudeManagedAgentsRuntime(),
  ]);
}

let settingsChecker: RuntimeRegistry | undefined;

/**
 * Checks an agent's `spec.runtime` with its adapter's own schema: the directory calls it
 * when a manifest is applied, so a wrong setting is refused then, not at the first run.
 */
export function checkRuntimeSettings(runtime: { type: string } & Record<string, unknown>) {
  settingsChecker ??= defaultRuntimes();
  return settingsChecker.check(runtime);
}

export interface RunsParts {
  service: RunsService;
  runtimes: RuntimeRegistry;
  queue: RunQueue;
  /** Present where this process takes runs: `worker`, and `serve` without Redis. */
  engine: RunEngine | undefined;
}

function createQueue(config: Config): RunQueue {
  return config.REDIS_URL
    ? new BullMqQueue(config.REDIS_URL, config.REDIS_KEY_PREFIX)
    : new InProcessQueue();
}

/**
 * The runs service (every process that takes requests) and, when `consume`, the engine
 * that executes them. With REDIS_URL runs go through BullMQ to `switchboard worker`
 * processes; without it they run in this process, from the same engine.
 */
export async function openRuns(
  ctx: ProcessContext,
  agents: AgentSource,
  options: { consume: boolean },
): Promise<RunsParts> {
  const { config, lifecycle, logger } = ctx;
  const runtimes = defaultRuntimes();
  lifecycle.onStop("runtime adapters", () => runtimes.close());
  const signals: RunSignals = ctx.redis
    ? await RedisRunSignals.connect(ctx.redis, config.REDIS_KEY_PREFIX)
    : new LocalRunSignals();
  lifecycle.onStop("run signals", () => signals.close());
  const queue = createQueue(config);
  const service = new RunsService({
    knex: ctx.db.knex,
    agents,
    access: ctx.authorization.access,
    runtimes,
    queue,
    signals,
    logger: logger.child({ module: "runs" }),
  });
  if (!options.consume) {
    lifecycle.onStop("run queue", () => queue.close());
    return { service, runtimes, queue, engine: undefined };
  }
  const engine = new RunEngine({
    knex: ctx.db.knex,
    queue,
    signals,
    agents,
    runtimes,
    secrets: environmentSecrets(),
    logger: logger.child({ module: "runs" }),
    concurrency: config.RUN_CONCURRENCY,
    leaseMs: config.RUN_LEASE_MS,
    maxAttempts: config.RUN_MAX_ATTEMPTS,
    retryBackoffMs: config.RUN_RETRY_BACKOFF_MS,
    defaultTimeoutMs: config.RUN_TIMEOUT_SECONDS * 1000,
    singleProcess: ctx.db.kind === "pglite",
  });
  await engine.start();
  lifecycle.onStop("runs engine", () => engine.stop());
  return { service, runtimes, queue, engine };
}
