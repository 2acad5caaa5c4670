import type { Logger } from "pino";
import type { ProviderKind } from "../config/deployments.js";
import type { ProxyMetrics } from "../metrics.js";
import type { PlanBuilder } from "../providers/upstream-plan.js";
import type { Router } from "../routing/router.js";
import type { UpstreamPools } from "../upstream/upstream-pools.js";
import type { ModelCall } from "./model-call.js";

/** What every model call shares: built once per proxy. */
export interface CallContext {
  router: Router;
  pools: UpstreamPools;
  metrics: ProxyMetrics;
  logger: Logger;
  planFor(provider: ProviderKind): PlanBuilder;
  /**
   * Called once per call when it is over (its response ended, or it failed): accounting
   * and metrics read the call's status, usage and deployment from it.
   */
  finished(call: ModelCall): void;
}
