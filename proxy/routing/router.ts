import type { Deployment } from "../config/deployments.js";
import type { ProxySettings } from "../config/load.js";
import { DeploymentState } from "./deployment-state.js";
import { type PickDeployment, strategies } from "./strategies.js";

const NO_FALLBACKS: readonly string[] = [];
const NO_STATES: readonly DeploymentState[] = [];

/**
 * Chooses deployments for a model group: load balancing among the group's deployments,
 * `numRetries` more attempts on the group after a retryable failure, then each fallback
 * group in turn. A deployment that keeps failing cools down; one at its rpm/tpm is skipped.
 */
export class Router {
  private readonly groups = new Map<string, DeploymentState[]>();
  private readonly pick: PickDeployment;

  constructor(private readonly settings: ProxySettings) {
    for (const deployment of settings.deployments) {
      const group = this.groups.get(deployment.modelName) ?? [];
      group.push(new DeploymentState(deployment));
      this.groups.set(deployment.modelName, group);
    }
    this.pick = strategies[settings.routingStrategy];
  }

  hasModel(name: string): boolean {
    return this.groups.has(name);
  }

  modelNames(): string[] {
    return [...this.groups.keys()];
  }

  /** The first deployment of a group, to tell which API it speaks before any attempt. */
  firstDeployment(name: string): Deployment | undefined {
    return this.groups.get(name)?.[0]?.deployment;
  }

  /**
   * The attempts for one request, lazily: each `next()` picks among the deployments still
   * available now, preferring ones this request has not tried yet.
   */
  *attempts(modelName: string): Generator<DeploymentState, void, undefined> {
    const fallbacks = this.settings.fallbacks.get(modelName) ?? NO_FALLBACKS;
    // Made on first need: a group of one never consults it (its deployment is in no other
    // group, so "not tried yet" only matters among several).
    let tried: Set<DeploymentState> | undefined;
    for (let g = -1; g < fallbacks.length; g += 1) {
      const states = this.groups.get(g < 0 ? modelName : (fallbacks[g] as string)) ?? NO_STATES;
      for (let attempt = 0; attempt <= this.settings.numRetries; attempt += 1) {
        const now = Date.now();
        // The common case, one deployment: nothing to choose, nothing to allocate.
        if (states.length === 1) {
          const only = states[0] as DeploymentState;
          if (!only.isAvailable(now)) break;
          yield only;
          continue;
        }
        const available = states.filter((s) => s.isAvailable(now));
        if (available.length === 0) break;
        tried ??= new Set();
        const seen = tried;
        const fresh = available.filter((s) => !seen.has(s));
        const chosen = this.pick(fresh.length > 0 ? fresh : available);
        tried.add(chosen);
        yield chosen;
      }
    }
  }

  recordFailure(state: DeploymentState): void {
    state.recordFailure(Date.now(), this.settings.allowedFails, this.settings.cooldownMs);
  }
}
