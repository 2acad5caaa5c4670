import {
  type AccessPolicy,
  agentObject,
  type UserPrincipal,
  userSubject,
} from "../../authz/index.js";
import type { AgentRegistry } from "../../directory/index.js";
import type { RunsService } from "../../sessions/index.js";

/**
 * What a word a person wrote to the bot is, as an agent's name:
 * - `theirs`: an agent they may pick by naming it: one they already use (they have a
 *   session with it), one they own or their team owns, or one platform admins featured;
 * - `not_theirs`: an agent they may see but have not made theirs: not picked by a word, so
 *   an agent registered as `please` or `help` cannot capture requests; the person is asked;
 * - `none`: no agent they may see (people also start requests with ordinary words).
 */
export type NamedAgent = "theirs" | "not_theirs" | "none";

export interface NamedAgentDeps {
  access: AccessPolicy;
  registry: AgentRegistry;
  runs: RunsService;
}

/**
 * Whether `name` is one of the person's agents. Whether they may run it is not decided
 * here: starting the run checks it, and tells them how to ask for access.
 */
export async function namedAgent(
  deps: NamedAgentDeps,
  person: UserPrincipal,
  name: string,
): Promise<NamedAgent> {
  const agent = await deps.registry.find(name);
  if (!agent || !(await deps.access.can(person, "viewer", agentObject(name)))) return "none";
  if (agent.featured || agent.owner.toLowerCase() === userSubject(person.email)) return "theirs";
  // The live agent's own sessions (by its id): a retired name registered again is a new agent.
  if (await deps.runs.usesAgent(person, agent.id)) return "theirs";
  const team = agent.owner.startsWith("team:") ? agent.owner : undefined;
  if (team && (await deps.access.can(person, "member", team))) return "theirs";
  return "not_theirs";
}
