import type { Knex } from "knex";
import pino from "pino";
import type { AccessPolicy } from "../../authz/index.js";
import { type AgentRegistry, runnableAgents } from "../../directory/index.js";
import { allowedEnvironment, DemoRuntime, RuntimeRegistry } from "../../runtimes/index.js";
import { InProcessQueue, LocalRunSignals, RunEngine, RunsService } from "../../sessions/index.js";

/**
 * Runs the way one `switchboard serve` without Redis runs them, for tests in one process:
 * the runs service and an engine started with test-sized settings, on the demo runtime (no
 * secrets), the registry's agents. Stop the engine after the tests.
 */
export async function startInProcessRuns(parts: {
  knex: Knex;
  access: AccessPolicy;
  registry: AgentRegistry;
}): Promise<{ runs: RunsService; engine: RunEngine }> {
  const { knex, access } = parts;
  const logger = pino({ level: "silent" });
  const runtimes = new RuntimeRegistry([new DemoRuntime()]);
  const queue = new InProcessQueue();
  const signals = new LocalRunSignals();
  const agents = runnableAgents(parts.registry);
  const runs = new RunsService({ knex, agents, access, runtimes, queue, signals, logger });
  const engine = new RunEngine({
    knex,
    queue,
    signals,
    agents,
    runtimes,
    secrets: () => allowedEnvironment({}, []),
    logger,
    concurrency: 4,
    limits: { perUser: 100, perAgent: 100 },
    leaseMs: 5_000,
    maxAttempts: 2,
    retryBackoffMs: 50,
    defaultTimeoutMs: 30_000,
    singleProcess: true,
  });
  await engine.start();
  return { runs, engine };
}
