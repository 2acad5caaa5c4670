export { type A2aRouterOptions, createA2aRouter } from "./a2a-router.js";
export { A2A_BASE, a2aCardUrl, a2aUrl } from "./agent-card.js";
export { a2aOpenApiPaths } from "./openapi-paths.js";
