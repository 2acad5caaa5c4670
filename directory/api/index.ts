export { type AuthStrategy, authenticate, bearerApiKey, principalOf } from "./authenticate.js";
export { openApiDocument } from "./openapi.js";
export { defineRoute, type HttpMethod, type Route, type RouteInput } from "./route-table.js";
export { API_BASE, createDirectoryApi, type DirectoryApiOptions } from "./router.js";
