import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { asProxyError, type ClientDialect, ProxyError } from "../errors.js";
import type { KeyAdmission } from "../keys/admission.js";
import type { KeyCache } from "../keys/key-cache.js";
import type { VirtualKey } from "../keys/virtual-keys.js";
import type { CallContext } from "../pipeline/call-context.js";
import { sendError } from "../pipeline/client-errors.js";
import { ModelCall } from "../pipeline/model-call.js";
import {
  type ClientCall,
  ENDPOINT_DIALECT,
  type EndpointKind,
} from "../providers/upstream-plan.js";
import type { Json } from "../translate/json.js";
import { modelListBody } from "./model-list.js";
import { readBody } from "./read-body.js";

const ROUTES: Record<string, EndpointKind> = {
  "/v1/chat/completions": "chat",
  "/chat/completions": "chat",
  "/v1/responses": "responses",
  "/responses": "responses",
  "/v1/embeddings": "embeddings",
  "/embeddings": "embeddings",
  "/v1/messages": "messages",
  "/v1/messages/count_tokens": "count_tokens",
};

export interface HandlerDeps {
  ctx: CallContext;
  keys: KeyCache;
  admission: KeyAdmission;
  maxBodyBytes: number;
  /** Stripped from paths when the proxy is mounted under another server, e.g. `/proxy`. */
  pathPrefix: string;
  /** Rejections before any upstream call, for the metrics. */
  rejected(endpoint: string, model: string, status: number): void;
}

/** The bearer token (OpenAI SDK), `x-api-key` (Anthropic SDK) or `api-key` (Azure clients). */
function secretOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim() || undefined;
  const header = req.headers["x-api-key"] ?? req.headers["api-key"];
  return typeof header === "string" && header ? header : undefined;
}

function parseCall(endpoint: EndpointKind, raw: Buffer, req: IncomingMessage): ClientCall {
  let body: Json;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new ProxyError("invalid_json", "The request body is not valid JSON.");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new ProxyError("invalid_request", "The request body must be a JSON object.");
  }
  if (typeof body.model !== "string" || body.model === "") {
    throw new ProxyError("invalid_request", "`model` is required: name one of the proxy's models.");
  }
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === "string" ? value : undefined;
  };
  return {
    endpoint,
    body,
    raw,
    stream: body.stream === true,
    anthropicVersion: header("anthropic-version"),
    anthropicBeta: header("anthropic-beta"),
  };
}

/**
 * The proxy's request handler for node:http: routes, authenticates, reads and checks the
 * body, admits the key, then hands the call to a ModelCall. Everything before the upstream
 * call happens here, and every refusal is answered in the client's own dialect.
 */
export function createProxyHandler(
  deps: HandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { ctx, keys, admission } = deps;

  async function handleModelCall(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: EndpointKind,
    requestId: string,
    receivedAt: number,
    secret: string,
  ): Promise<void> {
    const raw = await readBody(req, deps.maxBodyBytes);
    const call = parseCall(endpoint, raw, req);
    const resolved = keys.resolve(secret);
    const key = resolved instanceof Promise ? await resolved : resolved;
    if (!key) throw new ProxyError("invalid_key", "Invalid API key.");
    const model = call.body.model as string;
    if (!ctx.router.hasModel(model)) {
      throw new ProxyError(
        "unknown_model",
        `Model "${model}" is not served by this proxy; GET /v1/models lists those that are.`,
      );
    }
    admission.admit(key, model);
    new ModelCall(ctx, res, ENDPOINT_DIALECT[endpoint], requestId, receivedAt, call, key).start();
  }

  async function handleModels(
    req: IncomingMessage,
    res: ServerResponse,
    secret: string,
  ): Promise<void> {
    const resolved = keys.resolve(secret);
    const key: VirtualKey | null = resolved instanceof Promise ? await resolved : resolved;
    if (!key) throw new ProxyError("invalid_key", "Invalid API key.");
    admission.assertUsable(key);
    const body = modelListBody(
      ctx.router.modelNames(),
      key,
      req.headers["anthropic-version"] !== undefined,
    );
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  }

  return (req, res) => {
    const receivedAt = performance.now();
    const requestId = randomUUID();
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    let path = query === -1 ? url : url.slice(0, query);
    if (deps.pathPrefix && path.startsWith(deps.pathPrefix))
      path = path.slice(deps.pathPrefix.length);
    const endpoint = req.method === "POST" ? ROUTES[path] : undefined;
    const dialect: ClientDialect = path.startsWith("/v1/messages") ? "anthropic" : "openai";
    const refuse = (error: unknown) => {
      const proxyError = asProxyError(error);
      sendError(res, proxyError, dialect, requestId, ctx.logger);
      deps.rejected(endpoint ?? "other", "", proxyError.status);
    };

    const isModels = req.method === "GET" && (path === "/v1/models" || path === "/models");
    if (!endpoint && !isModels) {
      return refuse(
        new ProxyError("not_found", `${req.method} ${path} is not an endpoint of this proxy.`),
      );
    }
    const secret = secretOf(req);
    if (!secret) {
      return refuse(
        new ProxyError(
          "missing_key",
          "Send an API key: `Authorization: Bearer <key>` or `x-api-key: <key>`.",
        ),
      );
    }
    const work = endpoint
      ? handleModelCall(req, res, endpoint, requestId, receivedAt, secret)
      : handleModels(req, res, secret);
    work.catch(refuse);
  };
}
