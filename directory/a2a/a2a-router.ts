import { AgentCard } from "@a2a-js/sdk";
import { legacyAgentCardRouter } from "@a2a-js/sdk/compat/v0_3/server/express";
import type { User } from "@a2a-js/sdk/server";
import { jsonRpcHandler } from "@a2a-js/sdk/server/express";
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type Response,
  Router,
} from "express";
import type { UserPrincipal } from "../../authz/index.js";
import { forbidden, SwitchboardError } from "../../core/index.js";
import type { RunsService } from "../../sessions/index.js";
import { type AuthStrategy, authenticate, principalOf } from "../api/index.js";
import type { Agent, AgentDirectory } from "../registry/index.js";
import { AGENT_CARD_PATH, agentCard } from "./agent-card.js";
import { AgentRequestHandler } from "./agent-request-handler.js";
import { REFUSED } from "./protocol-errors.js";

export interface A2aRouterOptions {
  directory: AgentDirectory;
  runs: RunsService;
  /** How callers are recognised: the API's bearer keys (and, with OIDC, the issuer's tokens). */
  strategies: readonly AuthStrategy[];
  /** This Switchboard's address as clients reach it (PUBLIC_URL): the cards' URLs. */
  publicUrl: string;
}

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const BODY_LIMIT = "256kb";

/** The caller as a person: runs are started by people, so a system principal is refused. */
function callerOf(res: Response): UserPrincipal {
  const principal = principalOf(res);
  if (principal.kind !== "user") {
    throw forbidden("A2A requests act for a person: send a person's API key.");
  }
  // Marked as an A2A caller: whatever they start is the `a2a` surface's.
  return { ...principal, via: "a2a" };
}

/** The agent, if the caller may view it; any other is "not found", as a missing one. */
async function visibleAgent(
  directory: AgentDirectory,
  req: Request,
  res: Response,
): Promise<Agent> {
  const name = String(req.params.agent ?? "");
  return directory.get(callerOf(res), name);
}

/** The A2A user the SDK passes around: the person behind the key. */
function a2aUser(principal: UserPrincipal): User {
  return { isAuthenticated: true, userName: principal.email };
}

/**
 * Errors before the SDK has the request (a bad key, an agent the caller may not view, a body
 * that is not JSON) as JSON-RPC error objects, with the HTTP status saying the same.
 */
const jsonRpcErrors: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent || req.path !== "/") return next(error);
  const answer = (status: number, code: number, message: string, reason: string) => {
    const id = (req.body as { id?: unknown } | undefined)?.id;
    res.status(status).json({
      jsonrpc: "2.0",
      id: typeof id === "string" || typeof id === "number" ? id : null,
      error: { code, message, data: { reason } },
    });
  };
  const bodyError = (error as { type?: string; limit?: number }).type;
  if (bodyError === "entity.parse.failed") {
    return answer(400, PARSE_ERROR, "The request body is not valid JSON.", "invalid_json");
  }
  if (bodyError === "entity.too.large") {
    return answer(
      413,
      INVALID_REQUEST,
      `The request body is larger than the ${BODY_LIMIT} this endpoint takes.`,
      "payload_too_large",
    );
  }
  if (!(error instanceof SwitchboardError)) return next(error);
  const code = error.status === 404 ? INVALID_REQUEST : REFUSED;
  answer(error.status, code, error.message, error.code);
};

/**
 * The A2A server, at `/a2a`: for each agent the caller may view, its card at
 * `/a2a/{agent}/.well-known/agent-card.json` and, for those they may run, JSON-RPC at
 * `/a2a/{agent}` for protocol 1.0 and 0.3 clients (the SDK tells them apart by the
 * `A2A-Version` header; none means 0.3). Every request needs an API key (or, with OIDC, a
 * token from the issuer).
 */
export function createA2aRouter(options: A2aRouterOptions): Router {
  const router = Router();
  const guard = authenticate(options.strategies);
  const siteUrl = options.publicUrl.replace(/\/+$/, "");

  router.use(
    `/:agent/${AGENT_CARD_PATH}`,
    guard,
    async (req: Request, res: Response, next: NextFunction) => {
      if (req.path !== "/") return next("router");
      const agent = await visibleAgent(options.directory, req, res);
      res.locals.card = agentCard(agent, options.publicUrl);
      // The card is the caller's to see: never from a shared cache.
      res.setHeader("vary", "Authorization");
      next();
    },
    // 0.3 clients (no A2A-Version, or 0.x) get the card in 0.3's shape; others fall through.
    (req: Request, res: Response, next: NextFunction) =>
      legacyAgentCardRouter({
        agentCardProvider: async () => res.locals.card,
        cache: { maxAge: 0 },
      })(req, res, next),
    (req: Request, res: Response) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        throw new SwitchboardError("method_not_allowed", "The agent card is read with GET.", {
          status: 405,
        });
      }
      res.append("vary", "A2A-Version");
      res.setHeader("cache-control", "no-cache");
      res.json(AgentCard.toJSON(res.locals.card));
    },
  );

  router.use(
    "/:agent",
    guard,
    express.json({ limit: BODY_LIMIT }),
    async (req: Request, res: Response, next: NextFunction) => {
      if (req.path !== "/") return next("router");
      const agent = await visibleAgent(options.directory, req, res);
      const principal = callerOf(res);
      const closed = new AbortController();
      res.on("close", () => closed.abort());
      const handler = new AgentRequestHandler({
        agent,
        card: agentCard(agent, options.publicUrl),
        principal,
        runs: options.runs,
        siteUrl,
        signal: closed.signal,
      });
      jsonRpcHandler({
        requestHandler: handler,
        userBuilder: async () => a2aUser(principal),
        legacyCompat: { enabled: true },
      })(req, res, next);
    },
    jsonRpcErrors,
  );
  return router;
}
