import type { Deployment } from "../config/deployments.js";
import { MinuteCounter } from "../keys/minute-counter.js";

/** What the router knows about one deployment right now; one per deployment per process. */
export class DeploymentState {
  inFlight = 0;
  /** Exponentially weighted time to response headers, for latency-based routing. */
  latencyMs = 0;
  readonly requests = new MinuteCounter();
  readonly tokens = new MinuteCounter();
  private recentFailures: number[] = [];
  private cooldownUntil = 0;

  constructor(readonly deployment: Deployment) {}

  /** Cooling down, or at its own rpm/tpm: the router passes it over. */
  isAvailable(now: number): boolean {
    if (this.cooldownUntil > now) return false;
    const { rpm, tpm } = this.deployment;
    if (rpm !== undefined && this.requests.value(now) >= rpm) return false;
    if (tpm !== undefined && this.tokens.value(now) >= tpm) return false;
    return true;
  }

  recordSuccess(latencyMs: number): void {
    this.latencyMs = this.latencyMs === 0 ? latencyMs : this.latencyMs * 0.8 + latencyMs * 0.2;
  }

  /** After `allowedFails` failures within a minute it sits out `cooldownMs`. */
  recordFailure(now: number, allowedFails: number, cooldownMs: number): void {
    this.recentFailures = this.recentFailures.filter((t) => now - t < 60_000);
    this.recentFailures.push(now);
    if (this.recentFailures.length > allowedFails) {
      this.cooldownUntil = now + cooldownMs;
      this.recentFailures = [];
    }
  }
}
