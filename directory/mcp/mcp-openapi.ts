import { MCP_PATH, RESOURCE_METADATA_PATH } from "./mcp-router.js";

const jsonRpc = {
  type: "object",
  description: "A JSON-RPC 2.0 message, or an array of them (MCP, protocol 2025-06-18 and later).",
  properties: {
    jsonrpc: { const: "2.0" },
    id: { type: ["string", "integer"] },
    method: {
      type: "string",
      examples: ["initialize", "tools/list", "tools/call", "notifications/cancelled"],
    },
    params: { type: "object" },
  },
  required: ["jsonrpc"],
};

const unauthenticated = {
  description:
    "No API key, or one that is unknown, revoked or expired. The WWW-Authenticate header names the protected resource metadata (resource_metadata=…).",
  headers: { "WWW-Authenticate": { schema: { type: "string" } } },
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};

/**
 * The MCP server's routes for the OpenAPI document. They live outside /api/v1, so each path
 * names its own server (the site's root). What travels inside is MCP's JSON-RPC, which the
 * protocol's specification describes; this says where it is and how to authenticate.
 */
export function mcpOpenApiPaths(): Record<string, unknown> {
  const servers = [{ url: "/" }];
  return {
    [MCP_PATH]: {
      servers,
      post: {
        operationId: "mcpMessage",
        summary: "MCP (Streamable HTTP, stateless): list and call the agents you may run as tools",
        description:
          'Each agent the caller may run is a tool named after it, taking {request, session_id?}. tools/call runs the agent through the same admission as every other surface and answers with the reply, the session_id (pass it back to continue) and the session\'s page; progress notifications follow the run when the call carries a progressToken, and notifications/cancelled (or closing the request) cancels the run. Add it to Claude Code with `claude mcp add --transport http switchboard <URL>/mcp --header "Authorization: Bearer <key>"`.',
        requestBody: {
          required: true,
          content: { "application/json": { schema: jsonRpc } },
        },
        responses: {
          200: {
            description:
              "The JSON-RPC response(s), as a Server-Sent Events stream (progress notifications first) or JSON",
            content: { "text/event-stream": {}, "application/json": { schema: jsonRpc } },
          },
          202: { description: "Notifications only (e.g. notifications/cancelled): accepted" },
          401: unauthenticated,
        },
      },
      get: {
        operationId: "mcpNotifications",
        summary: "MCP notification stream: notifications/tools/list_changed",
        description:
          "Held open by the client; says when the agents the caller may run changed (checked every MCP_TOOLS_CHECK_MS).",
        responses: {
          200: { description: "Server-Sent Events", content: { "text/event-stream": {} } },
          401: unauthenticated,
        },
      },
    },
    [`${RESOURCE_METADATA_PATH}${MCP_PATH}`]: {
      servers,
      get: {
        operationId: "getMcpResourceMetadata",
        summary: "OAuth 2.0 protected resource metadata (RFC 9728) of the MCP server",
        security: [],
        responses: {
          200: {
            description:
              "resource (the MCP server's URL), authorization_servers (the site's OIDC issuer, where configured), bearer_methods_supported",
            content: { "application/json": { schema: { type: "object" } } },
          },
        },
      },
    },
  };
}
