import type { UserPrincipal } from "../../authz/index.js";
import type { Agent, AgentDirectory } from "../../directory/index.js";
import type { ChatActions } from "./chat-actions.js";
import type { SurfaceName } from "./chat-message.js";
import { agentPageUrl } from "./run-access.js";

/** An agent as a surface lists it: its page, and a Run button when the person may run it. */
export interface AgentCard {
  agent: Agent;
  /** The agent's page on the site, where access is requested. */
  url: string;
  /** The ChatActions id of a `run_agent_form` button; unset when the person may not run it. */
  runActionId: string | undefined;
}

/**
 * The cards of agents a person looked for (a search, an agent asked for by name): "Run"
 * only on enabled agents they may run, as a `run_agent_form` button that asks for the
 * request (each surface has its own form for it). Clicking checks their rights again.
 */
export async function agentCards(
  deps: { directory: AgentDirectory; actions: ChatActions; publicUrl: string },
  surface: SurfaceName,
  principal: UserPrincipal,
  agents: readonly Agent[],
): Promise<AgentCard[]> {
  return Promise.all(
    agents.map(async (agent) => {
      const runnable =
        agent.state === "enabled" && (await deps.directory.permissions(principal, agent.name)).run;
      const runActionId = runnable
        ? await deps.actions.create(surface, "run_agent_form", { agentName: agent.name })
        : undefined;
      return { agent, url: agentPageUrl(deps.publicUrl, agent.name), runActionId };
    }),
  );
}
