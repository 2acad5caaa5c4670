import type { ModelProxyAccess } from "../../runtimes/index.js";
import type { Run } from "../records.js";
import type { RunnableAgent } from "./agent-source.js";

/** A model proxy key made for one attempt of a run, revoked when the attempt ends. */
export interface RunKey {
  access: ModelProxyAccess;
  revoke(): Promise<void>;
}

/**
 * Makes the key an agent uses for its own model calls during a run: named after the run,
 * its session, agent and person (so the proxy books spend to them), with the agent's
 * per-run budget, expiring shortly after the run's time limit. The app provides it when a
 * model proxy is configured; the engine does not know how keys are stored.
 */
export type RunKeyIssuer = (run: Run, agent: RunnableAgent, expiresAt: Date) => Promise<RunKey>;
