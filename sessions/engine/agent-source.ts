/** What the engine needs to know of an agent to run it; the directory provides it. */
export interface RunnableAgent {
  id: string;
  name: string;
  title: string;
  /** `team:SLUG` or `user:EMAIL`: whose history a retired agent's runs and sessions are. */
  owner: string;
  /** enabled agents run; suspended and disabled ones are refused. */
  state: string;
  stateReason: string | null;
  retired: boolean;
  /** The manifest's `spec.runtime`, validated by the adapter before each turn. */
  runtime: { type: string } & Record<string, unknown>;
  /** The manifest's `spec.limits.timeout_seconds`. */
  timeoutSeconds?: number | undefined;
  /** The manifest's `spec.limits.max_cost_usd_per_run`: the budget of the run's model proxy key. */
  maxCostUsdPerRun?: number | undefined;
}

/** Looks agents up for the engine and the runs service (sessions does not import the directory). */
export interface AgentSource {
  byName(name: string): Promise<RunnableAgent | undefined>;
  byId(id: string): Promise<RunnableAgent | undefined>;
  /** Every agent (retired ones too) on one of these runtime types: the sandbox sweeper's accounts. */
  byRuntimeTypes?(types: readonly string[]): Promise<RunnableAgent[]>;
}
