import { z } from "zod";
import type { Route } from "./route-table.js";
import { errorResponse } from "./schemas.js";

/** OpenAPI 3.1 (whose schemas are JSON Schema 2020-12), made from the route table. */

/** Schemas documented once under components/schemas and referred to by name. */
export type NamedSchemas = Record<string, z.ZodType>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return rest;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "The request or the manifest is not valid; the message names each problem",
  401: "No API key, or one that is unknown, revoked or expired",
  403: "The caller may see the agent but not do this to it",
  404: "No such agent, run or session, or one the caller may not see",
  409: "Conflicts with what exists: an agent's name taken, a run already finished, an idempotency key reused",
  503: "Access could not be checked (authz_unavailable); nothing was allowed",
};

function schemaOrRef(
  schema: z.ZodType,
  io: "input" | "output",
  named: NamedSchemas,
): Record<string, unknown> {
  const name = Object.entries(named).find(([, candidate]) => candidate === schema)?.[0];
  return name ? { $ref: `#/components/schemas/${name}` } : jsonSchema(schema, io);
}

function parameters(route: Route): unknown[] {
  const list: unknown[] = [];
  for (const [where, schema] of [
    ["path", route.params],
    ["query", route.query],
  ] as const) {
    if (!schema) continue;
    for (const [name, field] of Object.entries(schema.shape)) {
      const fieldSchema = jsonSchema(field as z.ZodType, "input");
      list.push({
        name,
        in: where,
        required: where === "path" || !(field as z.ZodType).safeParse(undefined).success,
        ...(fieldSchema.description ? { description: fieldSchema.description } : {}),
        schema: fieldSchema,
      });
    }
  }
  return list;
}

function operation(route: Route, named: NamedSchemas): Record<string, unknown> {
  const errorStatuses = [...new Set([...route.errors, ...(route.authenticated ? [401, 503] : [])])];
  const responses: Record<string, unknown> = {
    [route.response.status]: {
      description: route.response.description,
      ...(route.response.schema
        ? {
            content: {
              [route.response.contentType ?? "application/json"]: {
                schema: schemaOrRef(route.response.schema, "output", named),
              },
            },
          }
        : {}),
    },
  };
  for (const status of errorStatuses.sort()) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? "Error",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.authenticated ? {} : { security: [] }),
    parameters: parameters(route),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: schemaOrRef(route.body, "input", named) } },
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(
  routes: readonly Route[],
  options: {
    version: string;
    named?: { input?: NamedSchemas; output?: NamedSchemas };
    /** Paths served outside the route table (the MCP server), documented as they are. */
    extraPaths?: Record<string, unknown>;
  },
): Record<string, unknown> {
  const named = { ...options.named?.input, ...options.named?.output };
  const components: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(options.named?.input ?? {}))
    components[name] = jsonSchema(schema, "input");
  for (const [name, schema] of Object.entries(options.named?.output ?? {}))
    components[name] = jsonSchema(schema, "output");
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method] = operation(route, named);
  }
  Object.assign(paths, options.extraPaths);
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchboard API",
      version: options.version,
      description:
        "Find, register, run and govern agents. Every list is filtered by what the caller may view; an agent the caller may not view is a 404.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "An API key from `switchboard keys create --user EMAIL`.",
        },
      },
      schemas: { ...components, Error: jsonSchema(errorResponse, "output") },
    },
  };
}
