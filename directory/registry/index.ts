export {
  accessTuplesFor,
  MANAGED_RELATIONS,
  teamsNamedIn,
} from "./access-tuples.js";
export {
  AgentDirectory,
  type AgentPage,
  type AgentPermissions,
  type AgentRegistrationAnswer,
  type ListRequest,
  type RequestContext,
} from "./agent-directory.js";
export { AGENT_STATES, type Agent, type AgentState } from "./agent-record.js";
export type { RuntimeSettingsCheck } from "./agent-registry.js";
export {
  AgentRegistry,
  type AgentRegistryOptions,
  type ApplyOutcome,
  type ApplyResult,
  type ChangeContext,
} from "./agent-registry.js";
export type {
  AgentFilter,
  FacetCount,
  FacetName,
  Facets,
} from "./agent-search.js";
export { DEMO_MANIFEST, ensureDemoAgent } from "./demo-agent.js";
export { runnableAgents } from "./runnable-agents.js";
export {
  type MembershipSource,
  type Person,
  type TeamMember,
  TeamMemberships,
} from "./team-memberships.js";
export {
  type AgentRegistration,
  registrarsInWords,
  type TeamGroup,
  Teams,
  teamSlugOf,
} from "./teams.js";
