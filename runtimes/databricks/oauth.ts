import { createHash } from "node:crypto";
import { type Dispatcher, request } from "undici";
import { errorDetail } from "../http/index.js";
import {
  httpStatusError,
  RUNTIME_ERROR_CODES,
  RuntimeError,
  unreachableError,
} from "../runtime-error.js";

/**
 * OAuth machine-to-machine tokens for a service principal: the client-credentials grant at
 * the workspace's `/oidc/v1/token`, HTTP Basic client authentication, `scope=all-apis`
 * (https://docs.databricks.com/aws/en/dev-tools/auth/oauth-m2m). A token lasts an hour; it
 * is kept, per workspace and credentials, until a minute before it expires, so a busy agent
 * asks once an hour, not once a turn. Only the token's digest-keyed entry is kept in memory.
 */
export class OAuthTokens {
  private readonly cache = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly dispatcher: Dispatcher) {}

  async token(
    workspaceUrl: string,
    clientId: string,
    clientSecret: string,
    signal: AbortSignal,
  ): Promise<string> {
    const key = cacheKey(workspaceUrl, clientId, clientSecret);
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.token;

    const what = "The Databricks workspace's token endpoint";
    const url = new URL("oidc/v1/token", withSlash(workspaceUrl)).toString();
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`,
        },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          scope: "all-apis",
        }).toString(),
        signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
        dispatcher: this.dispatcher,
      });
    } catch (cause) {
      throw unreachableError(what, cause);
    }
    const text = await response.body.text();
    if (response.statusCode === 400 || response.statusCode === 401) {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.rejected,
        `The Databricks workspace refused the service principal's OAuth credentials (HTTP ${response.statusCode}): check spec.runtime.auth.client_id and the secret its client_secret refers to.`,
      );
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw httpStatusError(what, response.statusCode, errorDetail(text));
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = {};
    }
    if (typeof parsed.access_token !== "string" || !parsed.access_token) {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.badResponse,
        `${what} answered without an access token.`,
      );
    }
    const lifetime = typeof parsed.expires_in === "number" ? parsed.expires_in : 3600;
    this.cache.set(key, {
      token: parsed.access_token,
      expiresAt: Date.now() + Math.max(0, lifetime - 60) * 1000,
    });
    return parsed.access_token;
  }

  /** Forgets a token the workspace refused (revoked, or the principal's rights changed). */
  forget(workspaceUrl: string, clientId: string, clientSecret: string): void {
    this.cache.delete(cacheKey(workspaceUrl, clientId, clientSecret));
  }

  clear(): void {
    this.cache.clear();
  }
}

function cacheKey(workspaceUrl: string, clientId: string, clientSecret: string): string {
  return createHash("sha256").update(`${workspaceUrl}\n${clientId}\n${clientSecret}`).digest("hex");
}

export function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}
