/**
 * The MCP server at /mcp: each agent a person may run is a tool of theirs, and calling it
 * runs the agent through the runs engine, as from any other surface.
 */
export { McpCalls } from "./mcp-calls.js";
export { mcpOpenApiPaths } from "./mcp-openapi.js";
export {
  createMcpRouter,
  MCP_PATH,
  type McpRouterOptions,
  mcpServerUrl,
  RESOURCE_METADATA_PATH,
} from "./mcp-router.js";
export { toolName } from "./mcp-tools.js";
