import type { Logger } from "pino";
import type { ProviderKind } from "../config/deployments.js";
import type { ProxyMetrics } from "../metrics.js";
import type { PlanBuilder } from "../providers/upstream-plan.js";
import type { DeploymentState } from "../routing/deployment-state.js";
import type { Router } from "../routing/router.js";
import type { TokenUsage } from "../spend/usage.js";
import type { UpstreamPools } from "../upstream/upstream-pools.js";
import type { ModelCall } from "./model-call.js";

/** What every model call shares: built once per proxy. */
export interface CallContext {
  router: Router;
  pools: UpstreamPools;
  metrics: ProxyMetrics;
  logger: Logger;
  planFor(provider: ProviderKind): PlanBuilder;
  /** Called once per call after its response ended (or failed): accounting and metrics. */
  finished(
    call: ModelCall,
    status: number,
    spend: { usage: TokenUsage; state: DeploymentState } | null,
  ): void;
}
