import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type BodyFailure,
  type BodyListener,
  describeUnstorableInput,
  findUnstorableInput,
  readBody,
  requestPath,
} from "../../core/index.js";
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

const kindOf = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;

/**
 * What is wrong with the request's shape, checked here so a malformed call is refused in the
 * client's dialect and nothing goes upstream: the fields every call of the endpoint needs,
 * not each provider's full schema (the provider still judges the rest).
 */
function requestShapeProblem(
  endpoint: EndpointKind,
  body: Record<string, Json>,
): string | undefined {
  if (body.stream !== undefined && typeof body.stream !== "boolean") {
    return `\`stream\` must be true or false; got ${kindOf(body.stream)}.`;
  }
  if (endpoint === "chat" || endpoint === "messages" || endpoint === "count_tokens") {
    const messages = body.messages;
    if (!Array.isArray(messages)) {
      return `\`messages\` must be an array of messages, each an object with a \`role\` and \`content\`; got ${kindOf(messages)}.`;
    }
    for (const [index, message] of messages.entries()) {
      if (!message || typeof message !== "object" || Array.isArray(message)) {
        return `\`messages[${index}]\` must be an object with a \`role\` and \`content\`; got ${kindOf(message)}.`;
      }
      const { role, content } = message as Record<string, Json>;
      if (typeof role !== "string" || role === "") {
        return `\`messages[${index}].role\` must be a string, e.g. "user".`;
      }
      // null or absent: an assistant turn that only calls tools.
      if (
        content !== undefined &&
        content !== null &&
        typeof content !== "string" &&
        !Array.isArray(content)
      ) {
        return `\`messages[${index}].content\` must be a string or an array of content parts; got ${kindOf(content)}.`;
      }
    }
  }
  if (endpoint === "responses" || endpoint === "embeddings") {
    const input = body.input;
    if (typeof input !== "string" && !Array.isArray(input)) {
      return `\`input\` must be a string or an array; got ${kindOf(input)}.`;
    }
  }
  return undefined;
}

/** Deeper than any call's messages and tool schemas go (a manifest's limit is far lower). */
const MAX_CALL_DEPTH = 128;

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
  // Recursive code after this (translation, re-serialising, usage scans) would overflow the
  // stack on hostile nesting and answer 500; text is the provider's to judge, not ours.
  const tooDeep = findUnstorableInput(body, { maxDepth: MAX_CALL_DEPTH, text: false });
  if (tooDeep) {
    throw new ProxyError("invalid_request", describeUnstorableInput("The request body", tooDeep));
  }
  if (typeof body.model !== "string" || body.model === "") {
    throw new ProxyError("invalid_request", "`model` is required: name one of the proxy's models.");
  }
  const shapeProblem = requestShapeProblem(endpoint, body);
  if (shapeProblem) throw new ProxyError("invalid_request", shapeProblem);
  return {
    endpoint,
    modelName: body.model,
    body,
    raw,
    stream: body.stream === true,
    anthropicVersion: stringHeader(req, "anthropic-version"),
    anthropicBeta: stringHeader(req, "anthropic-beta"),
  };
}

function stringHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

/** Answers a refusal in the client's dialect and counts it. */
function refuse(
  deps: HandlerDeps,
  res: ServerResponse,
  error: unknown,
  dialect: ClientDialect,
  requestId: string,
  endpoint: string,
): void {
  const proxyError = asProxyError(error);
  sendError(res, proxyError, dialect, requestId, deps.ctx.logger);
  deps.rejected(endpoint, "", proxyError.status);
}

/**
 * A model call between its arrival and its admission: reads the body, checks it and the
 * key, then hands over to a ModelCall. One object per request, with methods, rather than
 * a chain of promises and closures (each of which costs every call).
 */
class IncomingModelCall implements BodyListener {
  constructor(
    private readonly deps: HandlerDeps,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly endpoint: EndpointKind,
    private readonly requestId: string,
    private readonly receivedAt: number,
    private readonly secret: string,
  ) {}

  bodyRead(raw: Buffer): void {
    let call: ClientCall;
    let resolved: VirtualKey | null | Promise<VirtualKey | null>;
    try {
      call = parseCall(this.endpoint, raw, this.req);
      resolved = this.deps.keys.resolve(this.secret);
    } catch (error) {
      this.refuse(error);
      return;
    }
    // A key seen before is in memory; only its first use waits for the database.
    if (resolved instanceof Promise) {
      resolved.then(
        (key) => this.admit(call, key),
        (error) => this.refuse(error),
      );
    } else this.admit(call, resolved);
  }

  bodyFailed(reason: BodyFailure, cause?: unknown): void {
    const limit = this.deps.maxBodyBytes;
    this.refuse(
      reason === "too_large"
        ? new ProxyError(
            "body_too_large",
            `The request body is larger than this proxy accepts (${limit} bytes).`,
          )
        : new ProxyError("invalid_request", "The request body could not be read.", { cause }),
    );
  }

  private admit(call: ClientCall, key: VirtualKey | null): void {
    const { ctx, admission } = this.deps;
    let admitted: ModelCall;
    try {
      if (!key) throw new ProxyError("invalid_key", "Invalid API key.");
      if (!ctx.router.hasModel(call.modelName)) {
        throw new ProxyError(
          "unknown_model",
          `Model "${call.modelName}" is not served by this proxy; GET /v1/models lists those that are.`,
        );
      }
      admission.admit(key, call.modelName);
      const dialect = ENDPOINT_DIALECT[this.endpoint];
      admitted = new ModelCall(ctx, this.res, dialect, this.requestId, this.receivedAt, call, key);
    } catch (error) {
      this.refuse(error);
      return;
    }
    try {
      admitted.start();
    } catch (error) {
      // A bug, not a refusal: answered as a 500 (once), never an uncaught exception.
      if (!this.res.headersSent) this.refuse(error);
      else this.res.destroy();
    }
  }

  /** Every refusal before the upstream call, in the client's dialect. */
  private refuse(error: unknown): void {
    refuse(
      this.deps,
      this.res,
      error,
      ENDPOINT_DIALECT[this.endpoint],
      this.requestId,
      this.endpoint,
    );
  }
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
    let path = requestPath(req);
    if (deps.pathPrefix && path.startsWith(deps.pathPrefix))
      path = path.slice(deps.pathPrefix.length);
    const endpoint = req.method === "POST" ? ROUTES[path] : undefined;
    const dialect: ClientDialect = path.startsWith("/v1/messages") ? "anthropic" : "openai";

    const isModels = req.method === "GET" && (path === "/v1/models" || path === "/models");
    if (!endpoint && !isModels) {
      const error = new ProxyError(
        "not_found",
        `${req.method} ${path} is not an endpoint of this proxy.`,
      );
      return refuse(deps, res, error, dialect, requestId, "other");
    }
    const secret = secretOf(req);
    if (!secret) {
      const error = new ProxyError(
        "missing_key",
        "Send an API key: `Authorization: Bearer <key>` or `x-api-key: <key>`.",
      );
      return refuse(deps, res, error, dialect, requestId, endpoint ?? "other");
    }
    if (endpoint) {
      const incoming = new IncomingModelCall(
        deps,
        req,
        res,
        endpoint,
        requestId,
        receivedAt,
        secret,
      );
      readBody(req, deps.maxBodyBytes, incoming);
      return;
    }
    handleModels(req, res, secret).catch((error) =>
      refuse(deps, res, error, dialect, requestId, "other"),
    );
  };
}
