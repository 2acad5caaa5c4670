import { agentManifestSchema, manifestJsonSchema } from "../manifest/index.js";
import type { AgentDirectory, ApplyResult } from "../registry/index.js";
import { presentDetail, presentSummary } from "./present.js";
import { defineRoute, type Route, type RouteInput } from "./route-table.js";
import {
  agentDetail,
  agentList,
  agentNameParams,
  applyResponse,
  jsonDocument,
  listAgentsQuery,
} from "./schemas.js";

/** The directory's routes under /api/v1: each a thin layer over `AgentDirectory`. */
export function agentRoutes(
  directory: AgentDirectory,
  discovery: { mcpUrl?: string | undefined; publicUrl?: string | undefined } = {},
): Route[] {
  const publicUrl = discovery.publicUrl ?? "";
  const detail = async (input: RouteInput<unknown, unknown>, name: string) => {
    const agent = await directory.get(input.principal, name);
    return presentDetail(agent, await directory.permissions(input.principal, name), publicUrl);
  };
  const applied = async (input: RouteInput<unknown, unknown>, result: ApplyResult) => ({
    name: result.name,
    outcome: result.outcome,
    changes: result.changes,
    agent: await detail(input, result.name),
  });

  const routes: Route[] = [
    defineRoute({
      method: "get",
      path: "/agents",
      operationId: "listAgents",
      summary: "Search the agents the caller may view",
      description:
        "Paged by cursor, in name order. Facet counts cover only agents the caller may view; each facet ignores its own filter so the other values stay on offer. `mcp_url` is the MCP server where each agent the caller may run is a tool (the same API key authenticates there).",
      authenticated: true,
      query: listAgentsQuery,
      response: { status: 200, description: "A page of agents", schema: agentList },
      errors: [400],
      async handle({ principal, query }) {
        const page = await directory.list(principal, {
          ...query,
          states: query.state ? [query.state] : undefined,
        });
        return {
          body: {
            items: page.items.map((agent) => presentSummary(agent, publicUrl)),
            next_cursor: page.nextCursor,
            facets: page.facets ?? null,
            mcp_url: discovery.mcpUrl ?? null,
          },
        };
      },
    }),
    defineRoute({
      method: "get",
      path: "/agents/{name}",
      operationId: "getAgent",
      summary: "One agent, with what the caller may do with it",
      authenticated: true,
      params: agentNameParams,
      response: { status: 200, description: "The agent", schema: agentDetail },
      errors: [404],
      async handle(input) {
        return { body: await detail(input, input.params.name) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/agents",
      operationId: "createAgent",
      summary: "Register an agent from a manifest",
      description:
        "Needs `agent_registrar` (by default: members of any team, and platform admins), as whoever will own the agent: a platform admin, an admin of the owning team, or the person named as owner. A name a live agent has is refused (409); a caller who may not view that agent is told only that the name is not available. A retired agent's name registers a new agent, unless the manifest names the retired agent's owner, which restores it.",
      authenticated: true,
      body: agentManifestSchema,
      bodyHint: "Send the agent's manifest (apiVersion, kind, metadata, spec) as a JSON body",
      response: { status: 201, description: "Registered", schema: applyResponse },
      errors: [400, 403, 409],
      async handle(input) {
        const result = await directory.create(input.principal, input.body, input);
        return { status: 201, body: await applied(input, result) };
      },
    }),
    defineRoute({
      method: "put",
      path: "/agents/{name}",
      operationId: "updateAgent",
      summary: "Replace an agent's manifest",
      description:
        "Needs editor access; changing the owner or the view and run lists needs owner access. The manifest's name must match the path.",
      authenticated: true,
      params: agentNameParams,
      body: agentManifestSchema,
      bodyHint: "Send the agent's manifest (apiVersion, kind, metadata, spec) as a JSON body",
      response: { status: 200, description: "Updated, or unchanged", schema: applyResponse },
      errors: [400, 403, 404],
      async handle(input) {
        const result = await directory.update(
          input.principal,
          input.params.name,
          input.body,
          input,
        );
        return { body: await applied(input, result) };
      },
    }),
    defineRoute({
      method: "delete",
      path: "/agents/{name}",
      operationId: "deleteAgent",
      summary: "Retire an agent (owners only)",
      description:
        "Every tuple naming it is removed and it leaves the directory; its history is kept for its people, its owner and platform admins, and its name is free for a new agent.",
      authenticated: true,
      params: agentNameParams,
      response: { status: 204, description: "Retired" },
      errors: [403, 404],
      async handle(input) {
        await directory.retire(input.principal, input.params.name, input);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: "get",
      path: "/manifest-schema",
      operationId: "getManifestSchema",
      summary: "The JSON Schema of agent manifests",
      authenticated: false,
      response: { status: 200, description: "JSON Schema (draft 2020-12)", schema: jsonDocument },
      errors: [],
      async handle() {
        return { body: manifestJsonSchema() };
      },
    }),
  ];
  return routes;
}

/** Schemas the OpenAPI document names under components/schemas. */
export const agentSchemas = {
  input: { AgentManifest: agentManifestSchema },
  output: { Agent: agentDetail, AgentList: agentList, ApplyResult: applyResponse },
};
