/**
 * Authorization: one OpenFGA policy (model.fga) for every path, answered by an OpenFGA
 * server or by the embedded evaluator of the same model. Deny by default.
 */
export { AccessPolicy } from "./access-policy.js";
export type { Authorizer, BatchCheck, ReadOptions } from "./authorizer.js";
export {
  embeddedTarget,
  formatReport,
  formatTotals,
  loadConformanceFile,
  runConformance,
  totalsOf,
} from "./conformance/index.js";
export { AuthzError, isAuthzError } from "./embedded/index.js";
export { EmbeddedAuthorizer } from "./embedded-store/embedded-authorizer.js";
export {
  type ExternalIdentity,
  normalizeEmail,
  type ProvisionedFields,
  type ProvisionedMatch,
  type ProvisionedUser,
  ProvisioningRefusal,
  type User,
  UserDirectory,
  userIsActive,
} from "./identity/index.js";
export {
  type AuthorizerSettings,
  openAuthorizer,
  PLATFORM,
  syncPlatformAdmins,
} from "./open-authorizer.js";
export { openFgaTarget } from "./openfga/conformance-target.js";
export { OpenFgaAuthorizer } from "./openfga/openfga-authorizer.js";
export { OPENFGA_SERVER_SETTINGS } from "./openfga/server-settings.js";
export { loadPolicyModel, userPlacesOf } from "./policy-model.js";
export {
  actorOf,
  agentObject,
  type Principal,
  type Surface,
  type SystemPrincipal,
  type UserPrincipal,
  userSubject,
} from "./principal.js";
export type {
  CheckRequest,
  ListObjectsRequest,
  ListUsersRequest,
  ReadFilter,
  TupleKey,
  UserFilter,
} from "./types.js";
