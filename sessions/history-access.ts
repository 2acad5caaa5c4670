import {
  type AccessPolicy,
  agentObject,
  PLATFORM,
  type Principal,
  userSubject,
} from "../authz/index.js";
import { SwitchboardError } from "../core/index.js";
import type { RunnableAgent } from "./engine/agent-source.js";

/**
 * Whether the principal may read a run or session of `agent` that `personId` had: its
 * person, and for a live agent its editors. Access tuples are keyed by the agent's name, and
 * once an agent is retired its name may belong to another agent, whose editors have no
 * business with the old history: a retired agent's runs and sessions are read only by their
 * person, the agent's original owner (the person named, or an admin of the team named) and
 * platform admins, whatever tuples now exist on `agent:NAME`.
 */
export async function mayReadHistory(
  access: AccessPolicy,
  principal: Principal,
  personId: string,
  agent: RunnableAgent | undefined,
): Promise<boolean> {
  if (principal.kind !== "user") return false;
  if (principal.userId === personId) return true;
  if (!agent) return false;
  if (!agent.retired) return access.can(principal, "editor", agentObject(agent.name));
  if (agent.owner === userSubject(principal.email)) return true;
  if (agent.owner.startsWith("team:") && (await access.can(principal, "admin", agent.owner))) {
    return true;
  }
  return access.can(principal, "admin", PLATFORM);
}

/**
 * The refusal of a turn in a conversation with a retired agent. Nothing runs: not the
 * retired agent, and not another agent that has since taken its name, which must never
 * receive the old transcript.
 */
export function retiredConversation(
  agentName: string,
  where: { sessionId: string } | "thread",
): SwitchboardError {
  const what =
    where === "thread"
      ? `The agent "${agentName}" this conversation was with has been retired, so the conversation cannot be continued. Start a new thread to talk to an agent.`
      : `The session ${where.sessionId} was with "${agentName}", which has been retired, so it cannot be continued. It stays readable in your sessions; start a new session to ask again.`;
  return new SwitchboardError("agent_retired", what, { status: 409 });
}
