import { createSign, generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import { type LoopbackServer, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for the Bot Framework's token signing: its OpenID metadata
 * (GET /v1/.well-known/openidconfiguration, shaped as login.botframework.com serves it:
 * issuer https://api.botframework.com, jwks_uri, RS256) and its JSON Web Key Set
 * (GET /v1/.well-known/keys, each key with its `endorsements`). It signs test tokens the
 * way the Bot Connector does (RS256, `kid` in the header, iss, aud = the bot's app id,
 * serviceurl, nbf/exp). Any other request is recorded as unexpected; `verify()` fails then.
 */
export const BOT_FRAMEWORK_ISSUER = "https://api.botframework.com";

export interface TokenClaims {
  aud?: string;
  iss?: string;
  serviceurl?: string;
  /** Seconds from now; negative: already expired. */
  expiresIn?: number;
  [claim: string]: unknown;
}

export class BotFrameworkKeysDouble {
  readonly unexpected: string[] = [];
  readonly keyId = `test-key-${randomUUID().slice(0, 8)}`;
  private readonly keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  /** A key the metadata does not name: what a forger signs with. */
  private readonly forgerKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });

  private constructor(private readonly server: LoopbackServer) {}

  static async start(): Promise<BotFrameworkKeysDouble> {
    let double: BotFrameworkKeysDouble | undefined;
    const server = await startLoopbackServer((req, res) =>
      double?.handle(req.method, req.url, res),
    );
    double = new BotFrameworkKeysDouble(server);
    return double;
  }

  get metadataUrl(): string {
    return `${this.server.url}/v1/.well-known/openidconfiguration`;
  }

  /** A token as the Bot Connector sends it on a request to the bot. */
  sign(claims: TokenClaims, options: { keyId?: string; forged?: boolean } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const { expiresIn = 3600, ...rest } = claims;
    const header = { alg: "RS256", typ: "JWT", kid: options.keyId ?? this.keyId, x5t: "test" };
    const payload = {
      iss: BOT_FRAMEWORK_ISSUER,
      nbf: now - 60,
      iat: now - 60,
      exp: now + expiresIn,
      ...rest,
    };
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
    const signed = `${encode(header)}.${encode(payload)}`;
    const key: KeyObject = (options.forged ? this.forgerKeys : this.keys).privateKey;
    const signature = createSign("RSA-SHA256").update(signed).sign(key).toString("base64url");
    return `${signed}.${signature}`;
  }

  verify(): void {
    if (this.unexpected.length > 0) {
      throw new Error(`unexpected requests to the Bot Framework keys double: ${this.unexpected}`);
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(
    method: string | undefined,
    url: string | undefined,
    res: import("node:http").ServerResponse,
  ): void {
    const json = (body: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (method === "GET" && url === "/v1/.well-known/openidconfiguration") {
      json({
        issuer: BOT_FRAMEWORK_ISSUER,
        authorization_endpoint: "https://invalid.botframework.com",
        jwks_uri: `${this.server.url}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
      });
      return;
    }
    if (method === "GET" && url === "/v1/.well-known/keys") {
      const jwk = this.keys.publicKey.export({ format: "jwk" });
      json({
        keys: [{ ...jwk, kty: "RSA", use: "sig", kid: this.keyId, endorsements: ["msteams"] }],
      });
      return;
    }
    this.unexpected.push(`${method} ${url}`);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "not found" }));
  }
}
