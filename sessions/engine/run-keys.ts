import type { ModelProxyAccess } from "../../runtimes/index.js";
import type { Run } from "../records.js";
import type { RunnableAgent } from "./agent-source.js";

/** A model proxy key made for one attempt of a run, revoked when the attempt ends. */
export interface RunKey {
  access: ModelProxyAccess;
  revoke(): Promise<void>;
}

/**
 * The keys an agent uses for its own model calls during a run. The app provides them when
 * a model proxy is configured; the engine does not know how keys are stored.
 */
export interface RunKeys {
  /**
   * A key for one attempt: named after the run, its session, agent and person (so the proxy
   * books spend to them), with the agent's per-run budget, expiring shortly after the
   * run's time limit.
   */
  issue(run: Run, agent: RunnableAgent, expiresAt: Date): Promise<RunKey>;
  /**
   * Revokes every key of the run still live: what an attempt whose worker died left
   * behind (it never reached its own revoke), so the agent it was handed to, or anyone who
   * saw it, cannot spend on it until it expires.
   */
  revokeLeftOver(runId: string): Promise<number>;
}
