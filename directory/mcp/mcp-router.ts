import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import express, { type Request, type Response, Router } from "express";
import type { Logger } from "pino";
import type { UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError, unauthenticated } from "../../core/index.js";
import type { RunsService } from "../../sessions/index.js";
import { type AuthStrategy, bearerApiKey } from "../api/authenticate.js";
import type { ApiKeys } from "../keys/api-keys.js";
import type { AgentDirectory } from "../registry/index.js";
import type { McpCalls } from "./mcp-calls.js";
import { mcpServer } from "./mcp-server.js";
import { watchTools } from "./tools-watch.js";

/** Where the MCP server answers. */
export const MCP_PATH = "/mcp";
/** RFC 9728's well-known place for a protected resource's metadata. */
export const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

export interface McpRouterOptions {
  directory: AgentDirectory;
  runs: RunsService;
  keys: ApiKeys;
  calls: McpCalls;
  /** `https://switchboard.example.com` (no trailing slash): links and the resource's URL. */
  publicUrl: string;
  /** The OIDC issuer the site signs people in with: named as the authorization server. */
  authorizationServer?: string | undefined;
  /** That issuer's tokens (`bearerOidcToken`), tried before the API key: a JWT is never a key. */
  tokens?: AuthStrategy | undefined;
  /** How often an open notification stream checks the person's tools for changes. */
  toolsCheckMs: number;
  logger: Logger;
}

/** `https://switchboard.example.com/mcp`: what people give their coding tool. */
export function mcpServerUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, "")}${MCP_PATH}`;
}

/**
 * The MCP server (Streamable HTTP, stateless) and the metadata clients read to learn how to
 * authenticate to it. Every request carries an API key (`Authorization: Bearer …`), or where
 * OIDC is configured a token from the issuer the metadata names, and gets
 * its own server and transport, so any `serve` process answers any request.
 */
export function createMcpRouter(options: McpRouterOptions): Router {
  const router = Router();
  const base = options.publicUrl.replace(/\/+$/, "");
  const resource = mcpServerUrl(base);
  const metadataUrl = `${base}${RESOURCE_METADATA_PATH}${MCP_PATH}`;
  const metadata = {
    resource,
    ...(options.authorizationServer
      ? { authorization_servers: [options.authorizationServer.replace(/\/+$/, "")] }
      : {}),
    bearer_methods_supported: ["header"],
    resource_name: "Switchboard agents",
    resource_documentation: `${base}/`,
  };
  router.get([RESOURCE_METADATA_PATH, `${RESOURCE_METADATA_PATH}${MCP_PATH}`], (_req, res) => {
    // Read by clients in browsers too (the MCP Inspector): public, like any discovery document.
    res.set({ "access-control-allow-origin": "*", "cache-control": "public, max-age=300" });
    res.json(metadata);
  });

  const keyOf = bearerApiKey(options.keys);
  const tokenOf = options.tokens;
  const authenticateCaller = async (req: Request, res: Response, next: express.NextFunction) => {
    try {
      const principal = (await tokenOf?.(req)) ?? (await keyOf(req));
      if (!principal) {
        res.setHeader("www-authenticate", `Bearer resource_metadata="${metadataUrl}"`);
        throw unauthenticated(
          `Send a Switchboard API key as \`Authorization: Bearer <key>\` (e.g. claude mcp add --transport http switchboard ${resource} --header "Authorization: Bearer <your key>"); \`switchboard keys create\` makes one.`,
        );
      }
      res.locals.principal = principal;
      next();
    } catch (error) {
      if (isSwitchboardError(error) && error.status === 401) {
        res.setHeader(
          "www-authenticate",
          `Bearer resource_metadata="${metadataUrl}", error="invalid_token"`,
        );
      }
      next(error);
    }
  };

  router.all(
    MCP_PATH,
    authenticateCaller,
    express.json({ limit: "512kb" }),
    async (req: Request, res: Response) => {
      const principal: UserPrincipal = { ...(res.locals.principal as UserPrincipal), via: "mcp" };
      const server = mcpServer(principal, options);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      let stopWatching: (() => void) | undefined;
      // The response ending (or the client going away) ends this request's server: a tool
      // call still in flight is aborted, and so its run cancelled.
      res.on("close", () => {
        stopWatching?.();
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      if (req.method === "GET") {
        stopWatching = watchTools(server, {
          directory: options.directory,
          principal,
          everyMs: options.toolsCheckMs,
          logger: options.logger,
        });
      }
      await transport.handleRequest(req, res, req.body);
    },
  );
  return router;
}
