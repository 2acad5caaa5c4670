/**
 * The agent registry: manifests, CRUD and search, the REST API under /api/v1 and the
 * directory site. Depends on authz (who may see and run what) and sessions (usage).
 *
 * Its public API is exported from here as it is built.
 */
export {};
