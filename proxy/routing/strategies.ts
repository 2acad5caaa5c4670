import type { RoutingStrategy } from "../config/schema.js";
import type { DeploymentState } from "./deployment-state.js";

/** Picks one of the candidates (never empty) for the next attempt. */
export type PickDeployment = (candidates: DeploymentState[]) => DeploymentState;

function lowest(score: (state: DeploymentState) => number): PickDeployment {
  return (candidates) => {
    let best = candidates[0] as DeploymentState;
    for (const state of candidates) if (score(state) < score(best)) best = state;
    return best;
  };
}

/** Random, weighted by `weight` (or by `rpm` when set, as LiteLLM does). */
const simpleShuffle: PickDeployment = (candidates) => {
  if (candidates.length === 1) return candidates[0] as DeploymentState;
  const weightOf = (s: DeploymentState) => s.deployment.rpm ?? s.deployment.weight;
  let total = 0;
  for (const state of candidates) total += weightOf(state);
  let point = Math.random() * total;
  for (const state of candidates) {
    point -= weightOf(state);
    if (point < 0) return state;
  }
  return candidates[candidates.length - 1] as DeploymentState;
};

export const strategies: Record<RoutingStrategy, PickDeployment> = {
  "simple-shuffle": simpleShuffle,
  "least-busy": lowest((s) => s.inFlight),
  "usage-based-routing": lowest((s) => s.tokens.value()),
  "usage-based-routing-v2": lowest((s) => s.tokens.value()),
  "latency-based-routing": lowest((s) => s.latencyMs),
};
