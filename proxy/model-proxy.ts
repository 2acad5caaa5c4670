import type { IncomingMessage, ServerResponse } from "node:http";
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type AgentTracer, LedgerWriter } from "../governance/index.js";
import type { ProviderKind } from "./config/deployments.js";
import type { ProxySettings } from "./config/load.js";
import { createProxyHandler } from "./http/proxy-handler.js";
import { KeyAdmission } from "./keys/admission.js";
import { KeyCache } from "./keys/key-cache.js";
import { ProxyMetrics } from "./metrics.js";
import { CallAccounting } from "./pipeline/call-accounting.js";
import type { CallContext } from "./pipeline/call-context.js";
import { anthropicPlan } from "./providers/anthropic-plan.js";
import { bedrockPlan } from "./providers/bedrock-plan.js";
import { openaiPlan } from "./providers/openai-plan.js";
import type { PlanBuilder } from "./providers/upstream-plan.js";
import { Router } from "./routing/router.js";
import { SpendRecorder } from "./spend/spend-recorder.js";
import { SpendRollup } from "./spend/spend-rollup.js";
import { UpstreamPools } from "./upstream/upstream-pools.js";

export interface ModelProxyOptions {
  settings: ProxySettings;
  /** The Switchboard database: keys and the ledger. Without it only the master key works. */
  knex?: Knex | undefined;
  logger: Logger;
  /** Where the proxy's series go; the process's registry when it runs in-process. */
  registry?: Registry;
  /** Mounted under another server at this path (e.g. `/proxy`). */
  pathPrefix?: string;
  /** How often cached keys are re-read from the database. */
  keyRefreshIntervalMs?: number;
  /**
   * How often spend is written to the ledger (default: governance's, a second); the calls
   * of one key, model and deployment in between become one row.
   */
  ledgerFlushIntervalMs?: number;
  /** Set when traces are exported (OTEL_EXPORTER_OTLP_ENDPOINT): each call is a span. */
  tracer?: AgentTracer | undefined;
}

/** The proxy without a server of its own: a node:http handler plus what it needs closed. */
export interface ModelProxy {
  handle(req: IncomingMessage, res: ServerResponse): void;
  readonly metrics: ProxyMetrics;
  /** Drops a key from the cache at once (after revoking it in the database). */
  invalidateKey(id: string): void;
  /** Writes queued spend to the ledger now. */
  flushSpend(): Promise<void>;
  /** Flushes spend and closes upstream connections; call after the server stopped taking requests. */
  close(): Promise<void>;
}

const PLANS: Record<ProviderKind, PlanBuilder> = {
  openai: openaiPlan,
  azure: openaiPlan,
  anthropic: anthropicPlan,
  bedrock: bedrockPlan,
};

export function createModelProxy(options: ModelProxyOptions): ModelProxy {
  const { settings, knex, logger } = options;
  const metrics = new ProxyMetrics(options.registry);
  const keys = new KeyCache({
    knex,
    logger,
    masterKey: settings.masterKey,
    refreshIntervalMs: options.keyRefreshIntervalMs,
  });
  const admission = new KeyAdmission();
  // Spend is added up between two ledger writes; the writer takes the rows at each.
  const rollup = knex ? new SpendRollup() : undefined;
  const ledger =
    knex && rollup
      ? new LedgerWriter({
          knex,
          logger,
          flushIntervalMs: options.ledgerFlushIntervalMs,
          collect: () => rollup.take(),
        })
      : undefined;
  const recorder = new SpendRecorder({ rollup, keys, admission, metrics });
  const pools = new UpstreamPools();

  const accounting = new CallAccounting({ metrics, logger, recorder, tracer: options.tracer });

  const ctx: CallContext = {
    router: new Router(settings),
    pools,
    metrics,
    logger,
    planFor: (provider) => PLANS[provider],
    finished: (call) => accounting.add(call),
  };

  const handle = createProxyHandler({
    ctx,
    keys,
    admission,
    maxBodyBytes: settings.maxBodyBytes,
    pathPrefix: options.pathPrefix ?? "",
    rejected(endpoint, model, status) {
      metrics.callAnswered(endpoint, model, status, undefined);
    },
  });

  return {
    handle,
    metrics,
    invalidateKey: (id) => keys.invalidate(id),
    flushSpend: async () => {
      accounting.drain();
      await ledger?.flush();
    },
    async close() {
      keys.close();
      accounting.drain();
      await ledger?.close();
      await pools.close();
    },
  };
}
