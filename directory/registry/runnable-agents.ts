import type { AgentSource, RunnableAgent } from "../../sessions/index.js";
import type { Agent } from "./agent-record.js";
import type { AgentRegistry } from "./agent-registry.js";

function runnable(agent: Agent): RunnableAgent {
  return {
    id: agent.id,
    name: agent.name,
    title: agent.title,
    owner: agent.owner,
    state: agent.state,
    stateReason: agent.stateReason,
    retired: agent.retiredAt !== null,
    runtime: agent.manifest.spec.runtime,
    timeoutSeconds: agent.manifest.spec.limits?.timeout_seconds,
    maxCostUsdPerRun: agent.manifest.spec.limits?.max_cost_usd_per_run,
  };
}

/** The registry as the runs engine sees it: what it takes to run an agent. */
export function runnableAgents(registry: AgentRegistry): AgentSource {
  return {
    byName: async (name) => {
      const agent = await registry.find(name);
      return agent && runnable(agent);
    },
    byId: async (id) => {
      const agent = await registry.findById(id);
      return agent && runnable(agent);
    },
    byRuntimeTypes: async (types) => (await registry.withRuntimeTypes(types)).map(runnable),
  };
}
