import type { Knex } from "knex";
import type { AgentTracer, ApprovalNotifier } from "../governance/index.js";
import { issueProxyKey, revokeProxyKey, revokeRunKeys } from "../proxy/index.js";
import {
  A2aRuntime,
  BedrockAgentCoreRuntime,
  ClaudeManagedAgentsRuntime,
  CursorRuntime,
  DatabricksRuntime,
  DaytonaRuntime,
  DemoRuntime,
  E2bRuntime,
  EgressPolicy,
  ElasticAgentBuilderRuntime,
  environmentReferences,
  HttpRuntime,
  isLoopbackAddress,
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
  type RunKeys,
  type RunQueue,
  type RunSignals,
  RunsService,
} from "../sessions/index.js";
import type { Config } from "./config/index.js";
import type { ProcessContext } from "./context.js";
import type { Logger } from "./logger.js";
import { redisRetryStrategy } from "./redis.js";
import { SandboxSweeper } from "./sandbox-sweeper.js";
import { runSecrets } from "./secrets.js";
import { openTracer } from "./tracing.js";

/**
 * Every runtime adapter this build drives, by manifest `spec.runtime.type`, each reaching
 * only the addresses `egress` allows (no internal ones unless told).
 */
export function defaultRuntimes(
  egress = new EgressPolicy(),
  options: { sandboxDeployment?: string | undefined } = {},
): RuntimeRegistry {
  return new RuntimeRegistry([
    new DemoRuntime(),
    new A2aRuntime({ egress }),
    new HttpRuntime({ egress }),
    new N8nRuntime({ egress }),
    new ClaudeManagedAgentsRuntime({ egress }),
    new DatabricksRuntime({ egress }),
    new BedrockAgentCoreRuntime({ egress }),
    new CursorRuntime({ egress }),
    new ElasticAgentBuilderRuntime({ egress }),
    new DaytonaRuntime({ egress, deployment: options.sandboxDeployment }),
    new E2bRuntime({ egress, deployment: options.sandboxDeployment }),
  ]);
}

/**
 * Where this process's agents may connect: public addresses, plus RUNTIME_EGRESS_ALLOW.
 * On the embedded default (no DATABASE_URL) bound to loopback, loopback too: that is one
 * developer's machine, where their own agents run, and nobody else can reach it.
 */
export function egressPolicyFor(config: Config): EgressPolicy {
  const host = config.HOST.replace(/^\[(.*)\]$/, "$1");
  const onLoopback = host === "localhost" || isLoopbackAddress(host);
  return new EgressPolicy({
    allow: config.RUNTIME_EGRESS_ALLOW,
    allowLoopback: !config.DATABASE_URL && onLoopback,
  });
}

let settingsChecker: RuntimeRegistry | undefined;

/**
 * Checks an agent's `spec.runtime` with its adapter's own schema, and that every `{ env: NAME }`
 * in it is a name the operator allows (RUNTIME_ENV_ALLOWLIST): the directory calls it when a
 * manifest is applied, so a wrong setting is refused then, not at the first run. The message
 * says nothing of whether such a variable exists.
 */
export function runtimeSettingsCheck(config: Pick<Config, "RUNTIME_ENV_ALLOWLIST">) {
  const allowed = new Set(config.RUNTIME_ENV_ALLOWLIST);
  return (runtime: { type: string } & Record<string, unknown>) => {
    settingsChecker ??= defaultRuntimes();
    const problems = settingsChecker.check(runtime);
    for (const reference of environmentReferences(runtime)) {
      if (allowed.has(reference.name)) continue;
      problems.push({
        path: ["spec.runtime", ...reference.path].join("."),
        message: `{ env: ${reference.name} } is not an environment name the operator allows agents to read (RUNTIME_ENV_ALLOWLIST); keep the value in the secret store and refer to it as { secret: NAME }`,
      });
    }
    return problems;
  };
}

export interface RunsParts {
  service: RunsService;
  runtimes: RuntimeRegistry;
  queue: RunQueue;
  /** Present where this process takes runs: `worker`, and `serve` without Redis. */
  engine: RunEngine | undefined;
  /** Set when traces are exported; the in-process model proxy shares it. */
  tracer: AgentTracer | undefined;
}

function createQueue(config: Config, logger: Logger): RunQueue {
  return config.REDIS_URL
    ? new BullMqQueue({
        redisUrl: config.REDIS_URL,
        prefix: config.REDIS_KEY_PREFIX,
        logger,
        retryStrategy: redisRetryStrategy,
      })
    : new InProcessQueue();
}

/**
 * The runs service (every process that takes requests) and, when `consume`, the engine
 * that executes them. With REDIS_URL runs go through BullMQ to `switchboard worker`
 * processes; without it they run in this process, from the same engine.
 */
/**
 * Model proxy keys for runs: one per attempt, naming the run, its session, agent and
 * person, with the agent's per-run budget; revoked when the attempt ends, or when the run
 * is recovered after its worker died.
 */
function runKeysThrough(knex: Knex, baseUrl: string): RunKeys {
  return {
    issue: async (run, agent, expiresAt) => {
      const issued = await issueProxyKey(knex, {
        name: `run ${run.id}`,
        userId: run.userId,
        agentId: run.agentId,
        runId: run.id,
        sessionId: run.sessionId,
        budgetUsd: agent.maxCostUsdPerRun,
        expiresAt,
      });
      return {
        access: { baseUrl: baseUrl.replace(/\/+$/, ""), apiKey: issued.key },
        revoke: () => revokeProxyKey(knex, issued.id),
      };
    },
    revokeLeftOver: (runId) => revokeRunKeys(knex, runId),
  };
}

export async function openRuns(
  ctx: ProcessContext,
  agents: AgentSource,
  options: {
    consume: boolean;
    /** The model proxy agents call; default MODEL_PROXY_URL. */
    modelProxyUrl?: string | undefined;
    /** Tells approvers that a held run waits for them (the chat surfaces). */
    approvalNotifier?: ApprovalNotifier | undefined;
  },
): Promise<RunsParts> {
  const { config, lifecycle, logger } = ctx;
  const modelProxyUrl = options.modelProxyUrl ?? config.MODEL_PROXY_URL;
  // Before the parts that make spans, so it stops after them.
  const tracer = openTracer(config, ctx);
  const runtimes = defaultRuntimes(egressPolicyFor(config), {
    sandboxDeployment: config.SANDBOX_DEPLOYMENT_LABEL,
  });
  lifecycle.onStop("runtime adapters", () => runtimes.close());
  const signals: RunSignals = ctx.redis
    ? await RedisRunSignals.connect(ctx.redis, config.REDIS_KEY_PREFIX, logger)
    : new LocalRunSignals();
  lifecycle.onStop("run signals", () => signals.close());
  const queue = createQueue(config, logger);
  const secrets = runSecrets(config, ctx.secrets, ctx.authorization.access);
  const service = new RunsService({
    knex: ctx.db.knex,
    agents,
    access: ctx.authorization.access,
    runtimes,
    queue,
    signals,
    logger: logger.child({ module: "runs" }),
    runEstimateUsd: config.BUDGET_RUN_ESTIMATE_USD,
    approvalExpiryMs: config.APPROVAL_EXPIRY_MINUTES * 60_000,
    approvalNotifier: options.approvalNotifier,
    secrets,
  });
  expireApprovalsInTheBackground(service, ctx);
  if (!options.consume) {
    lifecycle.onStop("run queue", () => queue.close());
    return { service, runtimes, queue, engine: undefined, tracer };
  }
  const engine = new RunEngine({
    knex: ctx.db.knex,
    queue,
    signals,
    agents,
    runtimes,
    secrets,
    logger: logger.child({ module: "runs" }),
    concurrency: config.RUN_CONCURRENCY,
    limits: { perUser: config.RUN_MAX_PER_USER, perAgent: config.RUN_MAX_PER_AGENT },
    leaseMs: config.RUN_LEASE_MS,
    maxAttempts: config.RUN_MAX_ATTEMPTS,
    retryBackoffMs: config.RUN_RETRY_BACKOFF_MS,
    defaultTimeoutMs: config.RUN_TIMEOUT_SECONDS * 1000,
    singleProcess: ctx.db.kind === "pglite",
    runKeys: modelProxyUrl ? runKeysThrough(ctx.db.knex, modelProxyUrl) : undefined,
    tracer,
  });
  await engine.start();
  lifecycle.onStop("runs engine", () => engine.stop());
  const sweeper = new SandboxSweeper({
    knex: ctx.db.knex,
    runtimes,
    agents,
    secrets,
    logger: logger.child({ module: "sandboxes" }),
    owner: engine.workerId,
    deployment: config.SANDBOX_DEPLOYMENT_LABEL,
    intervalMs: config.SANDBOX_SWEEP_INTERVAL_MS,
    idleMs: config.SANDBOX_IDLE_TIMEOUT_MS,
  });
  sweeper.start();
  lifecycle.onStop("sandbox sweeper", () => sweeper.stop());
  return { service, runtimes, queue, engine, tracer };
}

/** Approvals nobody decided in time fail their runs (each process checks; a decision counts once). */
function expireApprovalsInTheBackground(service: RunsService, ctx: ProcessContext): void {
  const timer = setInterval(() => {
    service.expireApprovals().catch((error) => {
      ctx.logger.warn({ err: error }, "could not expire approvals; trying again shortly");
    });
  }, 30_000);
  timer.unref();
  ctx.lifecycle.onStop("approval expiry", async () => clearInterval(timer));
}
