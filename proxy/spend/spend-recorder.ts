import type { Deployment } from "../config/deployments.js";
import type { KeyAdmission } from "../keys/admission.js";
import type { KeyCache } from "../keys/key-cache.js";
import type { VirtualKey } from "../keys/virtual-keys.js";
import type { ProxyMetrics } from "../metrics.js";
import type { DeploymentState } from "../routing/deployment-state.js";
import { PriceBook } from "./pricing.js";
import type { SpendRollup } from "./spend-rollup.js";
import type { TokenUsage } from "./usage.js";

/** The call whose spend is recorded (a ModelCall once it is over). */
export interface FinishedCall {
  readonly requestId: string;
  readonly key: VirtualKey;
  readonly modelName: string;
  readonly endpoint: string;
}

/**
 * Turns a finished call's usage into spend: priced, counted against the key's budget and
 * tpm and the deployment's tpm, added to the metrics, and added up for the ledger (by the
 * rollup, whose rows governance's LedgerWriter takes at each write, never on the
 * request's path).
 */
export class SpendRecorder {
  private readonly prices = new PriceBook();
  constructor(
    private readonly deps: {
      /** Adds spend up for the ledger; none on a proxy without a database. */
      rollup: SpendRollup | undefined;
      keys: KeyCache;
      admission: KeyAdmission;
      metrics: ProxyMetrics;
    },
  ) {}

  /** `state` is the deployment that answered; answers the call's cost. */
  record(call: FinishedCall, state: DeploymentState, usage: TokenUsage): number {
    const { key, modelName } = call;
    const deployment: Deployment = state.deployment;
    const { costUsd, priced } = this.prices.price(deployment, usage);
    const tokens = usage.inputTokens + usage.outputTokens;
    state.tokens.add(tokens);
    this.deps.admission.countTokens(key, tokens);
    if (costUsd > 0) this.deps.keys.addSpend(key, costUsd);

    this.deps.metrics.used(modelName, usage, costUsd);

    this.deps.rollup?.add({
      requestId: call.requestId,
      key,
      modelName,
      endpoint: call.endpoint,
      deployment,
      usage,
      costUsd,
      priced,
    });
    return costUsd;
  }
}
