import type { UserPrincipal } from "../../authz/index.js";
import { forbidden, SwitchboardError } from "../../core/index.js";
import type { Agent, AgentDirectory } from "../../directory/index.js";
import { refusalText } from "./wording.js";

/** The site's page of an agent, where people ask for access. */
export function agentPageUrl(publicUrl: string, agentName: string): string {
  return `${publicUrl}/agents/${encodeURIComponent(agentName)}`;
}

/**
 * Why this person may not run the agent, in plain words for them; the agent when they may.
 * Checked before anything is posted for others to see, and on every click of a button, so a
 * refused person leaves no trace. An agent they may not view reads as unknown, as everywhere.
 */
export async function whyNotRun(
  deps: { directory: AgentDirectory; publicUrl: string },
  principal: UserPrincipal,
  agentName: string,
): Promise<{ refusal: string } | { agent: Agent }> {
  const url = agentPageUrl(deps.publicUrl, agentName);
  try {
    const agent = await deps.directory.get(principal, agentName);
    if (agent.state !== "enabled") {
      const reason = agent.stateReason ? ` (${agent.stateReason})` : "";
      const error = new SwitchboardError("agent_unavailable", `it is ${agent.state}${reason}.`);
      return { refusal: refusalText(error, agentName, url) };
    }
    const permissions = await deps.directory.permissions(principal, agentName);
    if (!permissions.run) {
      return { refusal: refusalText(forbidden("not a runner"), agentName, url) };
    }
    return { agent };
  } catch (error) {
    return { refusal: refusalText(error, agentName, url) };
  }
}

/** `authorize` for a kind of button that runs `payload.agentName`: the clicking person may run it. */
export function mayRunAgent(deps: { directory: AgentDirectory; publicUrl: string }) {
  return async (principal: UserPrincipal, payload: Record<string, unknown>) => {
    const check = await whyNotRun(deps, principal, String(payload.agentName));
    return "refusal" in check ? check.refusal : undefined;
  };
}
