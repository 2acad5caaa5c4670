import express, { type Request, type Response, Router } from "express";
import type { z } from "zod";
import { badRequest, echoInput, SwitchboardError } from "../../core/index.js";
import type {
  AuditReader,
  Budgets,
  OutcomesService,
  SpendService,
} from "../../governance/index.js";
import type { SecretService } from "../../secrets/index.js";
import type { RunsService } from "../../sessions/index.js";
import type { AccessRequests } from "../access-requests/index.js";
import { mcpOpenApiPaths } from "../mcp/index.js";
import type { AgentDirectory } from "../registry/index.js";
import { accessRequestRoutes } from "./access-request-routes.js";
import { agentRoutes, agentSchemas } from "./agent-routes.js";
import { auditRoutes } from "./audit-routes.js";
import { type AuthStrategy, authenticate, principalOf } from "./authenticate.js";
import { approvalRoutes, budgetRoutes, governanceSchemas } from "./governance-routes.js";
import { openApiDocument } from "./openapi.js";
import { refuseUnstorableInput } from "./refuse-unstorable-input.js";
import { defineRoute, type Route } from "./route-table.js";
import { runRoutes, runSchemas } from "./run-routes.js";
import { jsonDocument } from "./schemas.js";
import { secretRoutes, secretSchemas } from "./secret-routes.js";
import { outcomeRoutes, spendRoutes } from "./spend-routes.js";

const API_VERSION = "1.0.0";

export interface DirectoryApiOptions {
  directory: AgentDirectory;
  /** Runs and sessions; without it the API is the directory alone. */
  runs?: RunsService | undefined;
  /** Budgets; without them there are no /budgets routes. */
  budgets?: Budgets | undefined;
  /** The secret store; without it there are no /secrets routes. */
  secrets?: SecretService | undefined;
  /** Spend views; without it there is no /spend route. */
  spend?: SpendService | undefined;
  /** Outcomes of runs; without it there is no /outcomes route. */
  outcomes?: OutcomesService | undefined;
  /** The audit log for platform admins; without it there is no /audit route. */
  audit?: AuditReader | undefined;
  /** Requests to run agents; without it there are no /access-requests routes. */
  accessRequests?: AccessRequests | undefined;
  /** The MCP server's URL, shown in the agents list as `mcp_url`. */
  mcpUrl?: string | undefined;
  /** Tried in order; the first that recognises the request decides who is calling. */
  strategies: readonly AuthStrategy[];
  /** This Switchboard's address (PUBLIC_URL): links such as agents' A2A cards are absolute. */
  publicUrl?: string | undefined;
  /** Routes served beside the API that its document describes too (the A2A server's). */
  otherPaths?: Record<string, Record<string, unknown>> | undefined;
}

/** Where the API is mounted. */
export const API_BASE = "/api/v1";

const expressPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");

function parseQuery(schema: z.ZodObject, req: Request): unknown {
  const parsed = schema.safeParse(req.query);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  throw badRequest(`The query is not valid: ${problems.join("; ")}`, { problems });
}

/** A path parameter that cannot name anything (e.g. not a slug) means there is nothing there. */
function parseParams(schema: z.ZodObject, req: Request): unknown {
  const parsed = schema.safeParse(req.params);
  if (parsed.success) return parsed.data;
  throw new SwitchboardError("not_found", `${echoInput(req.path)} was not found.`, { status: 404 });
}

function register(router: Router, route: Route, strategies: readonly AuthStrategy[]): void {
  const guard = route.authenticated ? [authenticate(strategies)] : [];
  router[route.method](expressPath(route.path), ...guard, async (req: Request, res: Response) => {
    if (route.body && (req.body === undefined || req.body === null)) {
      throw badRequest(
        `${route.bodyHint ?? "Send a JSON body"}, with Content-Type: application/json.`,
      );
    }
    const result = await route.handle({
      principal: route.authenticated ? principalOf(res) : { kind: "system", name: "anonymous" },
      query: route.query ? parseQuery(route.query, req) : {},
      params: route.params ? parseParams(route.params, req) : {},
      body: req.body,
      headers: req.headers,
      requestId: typeof req.id === "string" ? req.id : undefined,
    });
    if (route.stream) {
      await route.stream(result.body, req, res);
      return;
    }
    res.status(result.status ?? route.response.status);
    if (result.body === undefined) res.end();
    else res.json(result.body);
  });
}

/** The REST API's router, to mount at `API_BASE`. Errors fall through to the app's one handler. */
export function createDirectoryApi(options: DirectoryApiOptions): Router {
  const router = Router();
  router.use(express.json({ limit: "256kb" }), refuseUnstorableInput);
  const routes = [
    ...agentRoutes(options.directory, { mcpUrl: options.mcpUrl, publicUrl: options.publicUrl }),
    ...(options.runs ? runRoutes(options.runs) : []),
    ...(options.runs ? approvalRoutes(options.runs) : []),
    ...(options.budgets ? budgetRoutes(options.budgets) : []),
    ...(options.secrets ? secretRoutes(options.secrets) : []),
    ...(options.spend ? spendRoutes(options.spend) : []),
    ...(options.outcomes ? outcomeRoutes(options.outcomes) : []),
    ...(options.audit ? auditRoutes(options.audit) : []),
    ...(options.accessRequests ? accessRequestRoutes(options.accessRequests) : []),
  ];
  const document = openApiDocument([...routes, openApiRoute(() => ({}))], {
    version: API_VERSION,
    extraPaths: { ...(options.mcpUrl ? mcpOpenApiPaths() : {}), ...(options.otherPaths ?? {}) },
    named: {
      input: {
        ...agentSchemas.input,
        ...runSchemas.input,
        ...governanceSchemas.input,
        ...(options.secrets ? secretSchemas.input : {}),
      },
      output: {
        ...agentSchemas.output,
        ...(options.runs ? runSchemas.output : {}),
        ...governanceSchemas.output,
        ...(options.secrets ? secretSchemas.output : {}),
      },
    },
  });
  for (const route of [...routes, openApiRoute(() => document)]) {
    register(router, route, options.strategies);
  }
  return router;
}

function openApiRoute(document: () => Record<string, unknown>): Route {
  return defineRoute({
    method: "get",
    path: "/openapi.json",
    operationId: "getOpenApi",
    summary: "This document",
    authenticated: false,
    response: { status: 200, description: "OpenAPI 3.1", schema: jsonDocument },
    errors: [],
    async handle() {
      return { body: document() };
    },
  });
}
