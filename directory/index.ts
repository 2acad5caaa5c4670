/**
 * The agent registry: manifests, CRUD and search, the REST API under /api/v1 and the MCP
 * server at /mcp. Depends on authz (who may see and run what) and governance (the audit
 * log). The directory site (`createDirectorySite`) is built on `AgentDirectory` and mounts
 * next to the API, as does the A2A server (`createA2aRouter`): every agent a person may view,
 * reachable by other agents.
 */

export { A2A_BASE, type A2aRouterOptions, a2aCardUrl, createA2aRouter } from "./a2a/index.js";
export {
  type AccessDecisionResult,
  type AccessRequest,
  type AccessRequestNotice,
  type AccessRequestNotifier,
  AccessRequestNotifiers,
  AccessRequests,
  accessDecisionNotice,
  accessOutcomeQuotes,
  accessRequestNotice,
  MAX_ACCESS_REASON_CHARS,
  sharedAccessDecisionNotice,
} from "./access-requests/index.js";
export {
  API_BASE,
  type AuthStrategy,
  authenticate,
  bearerApiKey,
  createDirectoryApi,
  type DirectoryApiOptions,
  openApiDocument,
  principalOf,
  type Route,
} from "./api/index.js";
export {
  createDefaultDirectoryApi,
  createDirectoryServices,
  type DirectoryServices,
} from "./directory-services.js";
export {
  type ApiKeySummary,
  ApiKeys,
  type CreatedApiKey,
  hashApiKey,
} from "./keys/api-keys.js";
export {
  type AgentManifest,
  type AgentManifestInput,
  agentManifestSchema,
  formatProblem,
  type LoadedManifests,
  loadManifests,
  ManifestError,
  type ManifestProblem,
  manifestJsonSchema,
  parseManifestText,
  type ValidatedManifest,
  validateManifest,
} from "./manifest/index.js";
export {
  createMcpRouter,
  MCP_PATH,
  McpCalls,
  type McpRouterOptions,
  mcpServerUrl,
  RESOURCE_METADATA_PATH,
  toolName,
} from "./mcp/index.js";
export {
  AGENT_STATES,
  type Agent,
  AgentDirectory,
  type AgentFilter,
  type AgentPage,
  type AgentPermissions,
  type AgentRegistration,
  AgentRegistry,
  type AgentState,
  type ApplyOutcome,
  type ApplyResult,
  type ChangeContext,
  DEMO_MANIFEST,
  ensureDemoAgent,
  type FacetCount,
  type FacetName,
  type Facets,
  type ListRequest,
  type MembershipSource,
  type RequestContext,
  registrarsInWords,
  runnableAgents,
  type TeamMember,
  TeamMemberships,
  Teams,
  teamSlugOf,
} from "./registry/index.js";
export {
  createScimRouter,
  Deactivation,
  type GroupMap,
  oidcTeamSync,
  SCIM_BASE,
  ScimService,
} from "./scim/index.js";
export {
  bearerOidcToken,
  type ChatLinkSettings,
  type ChatLinks,
  type CookieSecurity,
  CSRF_HEADER,
  chatLinks,
  createDirectorySite,
  type DirectorySiteOptions,
  FlowCookies,
  OIDC_CALLBACK_PATH,
  type OidcBearerSettings,
  type OidcHooks,
  OidcRefusal,
  type OidcSettings,
  OidcSignIn,
  SessionCookies,
  type SessionSummary,
  type SignInMethod,
  type SignInModes,
  type SiteAuth,
  SiteSessions,
  sessionCookieStrategy,
} from "./site/index.js";
export {
  AgentUsage,
  type AgentUsageReport,
  type DailyUsage,
  type UsageBreakdown,
  type UsageWindow,
} from "./usage/index.js";
