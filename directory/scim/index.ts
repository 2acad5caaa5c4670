/**
 * The SCIM 2.0 service provider (`/scim/v2`): the identity provider creates, updates and
 * deactivates people and keeps teams' membership in step. See README "Teams from the
 * identity provider".
 */
export { Deactivation } from "./deactivation.js";
export { oidcTeamSync } from "./oidc-teams.js";
export { ERROR_SCHEMA, ScimError } from "./scim-errors.js";
export { type GroupMap, slugForGroup } from "./scim-groups.js";
export { createScimRouter, SCIM_BASE, type ScimRouterOptions } from "./scim-router.js";
export { SCIM_ACTOR, ScimService, type ScimServiceParts } from "./scim-service.js";
