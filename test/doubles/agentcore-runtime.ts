import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { ScriptableContractAgent } from "./contract-agent.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * Amazon Bedrock AgentCore Runtime's data plane on 127.0.0.1, hosting one agent runtime,
 * shaped from:
 * - InvokeAgentRuntime: https://docs.aws.amazon.com/bedrock-agentcore/latest/APIReference/API_InvokeAgentRuntime.html
 *   and the SDK's model (aws/aws-sdk-js-v3 clients/client-bedrock-agentcore, 3.1141.0):
 *   `POST /runtimes/{agentRuntimeArn}/invocations?qualifier=Q`, the payload as the body,
 *   `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id` (33 to 256 characters), Content-Type and
 *   Accept headers; the agent container's answer passed through with the session id header;
 *   `X-Amzn-Bedrock-AgentCore-Runtime-User-Id` (runtimeUserId, 1 to 1024 characters) only
 *   from credentials that also have `bedrock-agentcore:InvokeAgentRuntimeForUser`, else
 *   AccessDeniedException (403);
 * - StopRuntimeSession: `POST /runtimes/{agentRuntimeArn}/stopruntimesession?qualifier=Q`
 *   with the session id header and `{ clientToken }`; 404 for a session it does not have;
 * - the agent side (https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-service-contract.html):
 *   a BedrockAgentCoreApp that yields strings streams `data: "<JSON string>"` events, one
 *   that returns answers JSON; this one answers Strands-style `{ result: { role, content:
 *   [{ text }] }, turn }` and reports its memory's `turn` in a last stream event;
 * - errors: restJson1, `X-Amzn-ErrorType: <Name>` and `{ "message": … }`
 *   (ResourceNotFoundException 404, ValidationException 400, AccessDeniedException 403,
 *   InternalServerException 500, RuntimeClientError 424).
 * Every request must be signed with SigV4 for `bedrock-agentcore` in the double's region with
 * its known credentials (it signs again and compares). Sessions are microVMs: the contract's
 * `forgetSessions` ends them, and the same id then gets a fresh one, as AgentCore does.
 */
export interface AgentCoreDoubleOptions {
  agentRuntimeArn: string;
  qualifier?: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  mode: "sse" | "json";
  reportsTurn?: boolean;
  /**
   * The credentials have bedrock-agentcore:InvokeAgentRuntimeForUser, so an invocation may
   * carry a runtimeUserId; without it one that does is refused, as AWS refuses it.
   */
  mayInvokeForUser?: boolean;
}

export class AgentCoreRuntimeDouble extends ScriptableContractAgent {
  /** StopRuntimeSession calls, by session id, in order. */
  readonly stops: string[] = [];
  /** The runtimeUserId of each invocation the agent answered (undefined: none was sent). */
  readonly userIds: Array<string | undefined> = [];
  private readonly inFlight = new Map<string, ServerResponse>();
  /** Sessions whose invocation the caller hung up on: their microVM is still working. */
  private readonly cutOff = new Set<string>();

  private constructor(
    private readonly server: LoopbackServer,
    private readonly options: AgentCoreDoubleOptions,
  ) {
    super();
  }

  static async start(options: AgentCoreDoubleOptions): Promise<AgentCoreRuntimeDouble> {
    const server = await startLoopbackServer((req, res) => void double.handle(req, res));
    const double = new AgentCoreRuntimeDouble(server, options);
    return double;
  }

  get url(): string {
    return this.server.url;
  }

  override reset(): void {
    super.reset();
    this.stops.length = 0;
    this.userIds.length = 0;
    this.cutOff.clear();
  }

  async close(): Promise<void> {
    this.releaseTurns();
    await this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? "/", "http://double");
    const route = `${req.method} ${url.pathname}`;
    const match = /^\/runtimes\/([^/]+)\/(invocations|stopruntimesession)$/.exec(url.pathname);
    if (req.method !== "POST" || !match) {
      this.unexpectedRequests.push(route);
      return awsError(res, 404, "UnknownOperationException", "Unknown operation");
    }
    if (!(await this.signatureMatches(req.headers, url, raw))) {
      return awsError(
        res,
        403,
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided.",
      );
    }
    const arn = decodeURIComponent(match[1] ?? "");
    const qualifier = url.searchParams.get("qualifier") ?? "DEFAULT";
    if (
      arn !== this.options.agentRuntimeArn ||
      qualifier !== (this.options.qualifier ?? "DEFAULT")
    ) {
      return awsError(
        res,
        404,
        "ResourceNotFoundException",
        `No endpoint or agent found with qualifier '${qualifier}' for agent '${arn}'`,
      );
    }
    const sessionId = String(req.headers["x-amzn-bedrock-agentcore-runtime-session-id"] ?? "");
    if (sessionId.length < 33 || sessionId.length > 256) {
      return awsError(
        res,
        400,
        "ValidationException",
        "1 validation error detected: Value at 'runtimeSessionId' failed to satisfy constraint: Member must have length greater than or equal to 33",
      );
    }
    if (match[2] === "stopruntimesession") return this.stop(res, sessionId);
    const userId = req.headers["x-amzn-bedrock-agentcore-runtime-user-id"];
    if (userId !== undefined) {
      const value = String(userId);
      if (value.length < 1 || value.length > 1024) {
        return awsError(
          res,
          400,
          "ValidationException",
          "1 validation error detected: Value at 'runtimeUserId' failed to satisfy constraint: Member must have length less than or equal to 1024",
        );
      }
      if (!this.options.mayInvokeForUser) {
        return awsError(
          res,
          403,
          "AccessDeniedException",
          `User: arn:aws:iam::111122223333:user/switchboard is not authorized to perform: bedrock-agentcore:InvokeAgentRuntimeForUser on resource: ${arn} because no identity-based policy allows the bedrock-agentcore:InvokeAgentRuntimeForUser action`,
        );
      }
    }
    return this.invoke(req, res, raw, sessionId, userId === undefined ? undefined : String(userId));
  }

  private stop(res: ServerResponse, sessionId: string): void {
    this.stops.push(sessionId);
    const running = this.inFlight.get(sessionId);
    if (!running && !this.knowsSession(sessionId)) {
      awsError(res, 404, "ResourceNotFoundException", "Session not found");
      return;
    }
    if (running || this.cutOff.delete(sessionId)) this.countCancellation();
    running?.destroy();
    res.writeHead(200, {
      "content-type": "application/json",
      "x-amzn-bedrock-agentcore-runtime-session-id": sessionId,
    });
    res.end("{}");
  }

  private async invoke(
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    sessionId: string,
    userId: string | undefined,
  ): Promise<void> {
    const received = this.receive(req, raw);
    if (!received) return awsError(res, 400, "ValidationException", "Invalid payload");
    this.userIds.push(userId);
    if (this.answeredByScript(res, received)) return;
    if (this.failsThisTurn()) {
      return awsError(
        res,
        500,
        "InternalServerException",
        "The server encountered an internal error.",
      );
    }
    const prompt = received.body?.prompt;
    if (typeof prompt !== "string") {
      // The agent's own code fails on a payload it does not understand.
      this.unexpectedRequests.push(`invocation without a prompt: ${raw.slice(0, 80)}`);
      return awsError(
        res,
        424,
        "RuntimeClientError",
        "Received error (500) from runtime. KeyError: 'prompt'",
      );
    }
    const { turn, answer } = this.answerTurn(sessionId, prompt);
    this.inFlight.set(sessionId, res);
    await this.whileHeld(() => new Promise((resolve) => res.on("close", resolve)));
    this.inFlight.delete(sessionId);
    if (res.destroyed) {
      this.cutOff.add(sessionId);
      return;
    }
    const headers = { "x-amzn-bedrock-agentcore-runtime-session-id": sessionId };
    const reported = this.options.reportsTurn === false ? {} : { turn };
    if (this.options.mode === "json") {
      res.writeHead(200, { ...headers, "content-type": "application/json" });
      res.end(
        JSON.stringify({ result: { role: "assistant", content: [{ text: answer }] }, ...reported }),
      );
      return;
    }
    res.writeHead(200, { ...headers, "content-type": "text/event-stream" });
    for (const word of answer.split(/(?<= )/)) {
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(word)}\n\n`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    res.end(this.options.reportsTurn === false ? "" : `data: ${JSON.stringify(reported)}\n\n`);
  }

  /** Signs the request again with the known secret, at its X-Amz-Date, and compares. */
  private async signatureMatches(
    headers: IncomingHttpHeaders,
    url: URL,
    body: string,
  ): Promise<boolean> {
    const authorization = String(headers.authorization ?? "");
    const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
    const date = String(headers["x-amz-date"] ?? "");
    const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    const scope = `Credential=${this.options.credentials.accessKeyId}/${at?.[1]}${at?.[2]}${at?.[3]}/${this.options.region}/bedrock-agentcore/aws4_request`;
    if (!authorization.startsWith("AWS4-HMAC-SHA256 ") || !at || !authorization.includes(scope)) {
      return false;
    }
    const signer = new SignatureV4({
      credentials: this.options.credentials,
      region: this.options.region,
      service: "bedrock-agentcore",
      sha256: Hash.bind(null, "sha256"),
    });
    const kept = Object.fromEntries(signed.map((name) => [name, String(headers[name] ?? "")]));
    const host = String(headers.host ?? "");
    const again = await signer.sign(
      {
        method: "POST",
        protocol: "http:",
        hostname: host.split(":")[0] ?? "",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: kept,
        body,
      },
      { signingDate: new Date(`${at[1]}-${at[2]}-${at[3]}T${at[4]}:${at[5]}:${at[6]}Z`) },
    );
    return again.headers.authorization === authorization;
  }
}

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { "content-type": "application/json", "x-amzn-errortype": type });
  res.end(JSON.stringify({ message }));
}
