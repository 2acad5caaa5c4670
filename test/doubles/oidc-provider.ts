import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * What the provider does for the next sign-in the test starts. Claims merge over the
 * defaults (sub, email, email_verified, name); a claim set to `null` is left out.
 */
export interface SignInScenario {
  claims?: Record<string, unknown>;
  /** Sign the ID token with this nonce instead of the one the client sent. */
  nonce?: string;
  /** What /userinfo answers besides `sub`. */
  userinfo?: Record<string, unknown>;
  /** Refuse at /authorize with this OAuth error (e.g. access_denied), as when a person cancels. */
  deny?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  authorization?: string | undefined;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string;
  scenario: SignInScenario;
  used: boolean;
}

export interface OidcProviderOptions {
  clientId: string;
  /** Unset: a public client, which must prove itself with PKCE alone. */
  clientSecret?: string | undefined;
  /** Listen on this port (e.g. one a server under test was already told about). */
  port?: number;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * An OpenID Connect provider on 127.0.0.1, written by hand on node:http so the test controls
 * every claim: discovery, a JWKS with one RS256 key, /authorize (which signs the person in at
 * once and redirects back with a code), /token (which checks the client, the redirect URI and
 * the PKCE verifier, and returns an ID token carrying the nonce) and /userinfo; it also mints
 * JWT access tokens signed with its key (`accessToken`) for APIs that accept them. It records
 * every request; anything it did not expect is answered 400 and kept in `unexpected`, which
 * tests assert is empty.
 */
export class OidcProviderDouble {
  readonly requests: RecordedRequest[] = [];
  readonly unexpected: string[] = [];
  /** Used by the next /authorize, then reset. */
  next: SignInScenario = {};
  private readonly codes = new Map<string, IssuedCode>();
  private readonly tokens = new Map<string, SignInScenario & { sub: string }>();
  private readonly keyId = randomBytes(8).toString("hex");
  private readonly keys = generateKeyPairSync("rsa", { modulusLength: 2048 });

  private constructor(
    private readonly server: LoopbackServer,
    private readonly options: OidcProviderOptions,
  ) {}

  static async start(options: OidcProviderOptions): Promise<OidcProviderDouble> {
    const server = await startLoopbackServer((req, res) => {
      provider.handle(req, res).catch((error: Error) => provider.fail(res, error.message));
    }, options.port);
    const provider = new OidcProviderDouble(server, options);
    return provider;
  }

  get issuer(): string {
    return this.server.url;
  }

  /** The requests to one path, in order. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.issuer);
    const body = await readBody(req);
    const request: RecordedRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      form: Object.fromEntries(new URLSearchParams(body)),
      authorization: req.headers.authorization,
    };
    this.requests.push(request);
    const route = `${request.method} ${request.path}`;
    if (route === "GET /.well-known/openid-configuration") return this.json(res, this.discovery());
    if (route === "GET /jwks") return this.json(res, { keys: [this.publicJwk()] });
    if (route === "GET /authorize") return this.authorize(request, res);
    if (route === "POST /token") return this.token(request, res);
    if (route === "GET /userinfo") return this.userinfo(request, res);
    this.fail(res, `unexpected request ${route}`);
  }

  private discovery() {
    return {
      issuer: this.issuer,
      authorization_endpoint: `${this.issuer}/authorize`,
      token_endpoint: `${this.issuer}/token`,
      userinfo_endpoint: `${this.issuer}/userinfo`,
      jwks_uri: `${this.issuer}/jwks`,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic", "none"],
    };
  }

  private authorize(request: RecordedRequest, res: ServerResponse): void {
    const q = request.query;
    const problems = [
      q.client_id !== this.options.clientId && "client_id",
      q.response_type !== "code" && "response_type",
      !q.redirect_uri && "redirect_uri",
      !q.scope?.split(" ").includes("openid") && "scope",
      !q.state && "state",
      !q.nonce && "nonce",
      (!q.code_challenge || q.code_challenge_method !== "S256") && "code_challenge",
    ].filter(Boolean);
    if (problems.length > 0) {
      this.fail(res, `bad /authorize: ${problems.join(", ")}`);
      return;
    }
    const scenario = this.next;
    this.next = {};
    const back = new URL(q.redirect_uri as string);
    if (scenario.deny) {
      back.searchParams.set("error", scenario.deny);
      back.searchParams.set("error_description", "The person declined.");
    } else {
      const code = randomBytes(16).toString("base64url");
      this.codes.set(code, {
        clientId: q.client_id as string,
        redirectUri: q.redirect_uri as string,
        challenge: q.code_challenge as string,
        nonce: q.nonce as string,
        scenario,
        used: false,
      });
      back.searchParams.set("code", code);
    }
    back.searchParams.set("state", q.state as string);
    res.writeHead(302, { location: back.href }).end();
  }

  private token(request: RecordedRequest, res: ServerResponse): void {
    const form = request.form;
    const client = this.clientOf(request);
    const issued = this.codes.get(form.code ?? "");
    const verifier = form.code_verifier ?? "";
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const problems = [
      form.grant_type !== "authorization_code" && "grant_type",
      !client && "client authentication",
      !issued && "unknown code",
      issued?.used && "code used twice",
      issued && issued.clientId !== client && "code of another client",
      issued && form.redirect_uri !== issued.redirectUri && "redirect_uri differs",
      issued && challenge !== issued.challenge && "PKCE verifier",
    ].filter(Boolean);
    if (problems.length > 0 || !issued) {
      this.fail(res, `bad /token: ${problems.join(", ")}`, { error: "invalid_grant" });
      return;
    }
    issued.used = true;
    const { scenario } = issued;
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      aud: issued.clientId,
      iat: now,
      exp: now + 300,
      nonce: scenario.nonce ?? issued.nonce,
      sub: "subject-1",
      email: "ada@example.com",
      email_verified: true,
      name: "Ada Lovelace",
      ...scenario.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === null) delete claims[name];
    const accessToken = randomBytes(16).toString("base64url");
    this.tokens.set(accessToken, { ...scenario, sub: String(claims.sub) });
    this.json(res, {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: 300,
      id_token: this.signJwt(claims),
    });
  }

  private userinfo(request: RecordedRequest, res: ServerResponse): void {
    const token = /^Bearer (.+)$/.exec(request.authorization ?? "")?.[1] ?? "";
    const grant = this.tokens.get(token);
    if (!grant) {
      this.fail(res, "bad /userinfo: unknown access token", undefined, 401);
      return;
    }
    this.json(res, { sub: grant.sub, ...grant.userinfo });
  }

  /** The authenticated client id: client_secret_post, client_secret_basic, or none for a public client. */
  private clientOf(request: RecordedRequest): string | undefined {
    const { clientId, clientSecret } = this.options;
    const basic = /^Basic (.+)$/.exec(request.authorization ?? "")?.[1];
    if (basic) {
      const [id, secret] = Buffer.from(basic, "base64")
        .toString()
        .split(":")
        .map(decodeURIComponent);
      return id === clientId && secret === clientSecret ? id : undefined;
    }
    const { client_id: id, client_secret: secret } = request.form;
    if (id !== clientId) return undefined;
    return secret === clientSecret ? id : undefined;
  }

  /**
   * A JWT access token as an issuer hands one to a client (RFC 9068: `typ: at+jwt`, iss, sub,
   * aud, client_id, iat, exp, jti), with the person's email as issuers add it on request.
   * Claims merge over those defaults (`null` leaves one out). `signedBy` forges it: "stranger"
   * signs with a key the provider never published (under the provider's key id), "none" sends
   * it unsigned (`alg: none`).
   */
  accessToken(
    claims: Record<string, unknown> = {},
    options: { signedBy?: "provider" | "stranger" | "none" } = {},
  ): string {
    const now = Math.floor(Date.now() / 1000);
    const all: Record<string, unknown> = {
      iss: this.issuer,
      sub: "subject-1",
      aud: this.options.clientId,
      client_id: this.options.clientId,
      iat: now,
      exp: now + 300,
      jti: randomBytes(8).toString("hex"),
      scope: "openid email profile",
      email: "ada@example.com",
      ...claims,
    };
    for (const [name, value] of Object.entries(all)) if (value === null) delete all[name];
    const signedBy = options.signedBy ?? "provider";
    if (signedBy === "none") {
      const header = b64url(JSON.stringify({ alg: "none", typ: "at+jwt" }));
      return `${header}.${b64url(JSON.stringify(all))}.`;
    }
    const key =
      signedBy === "stranger"
        ? generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey
        : this.keys.privateKey;
    return this.signJwt(all, "at+jwt", key);
  }

  private signJwt(
    claims: Record<string, unknown>,
    typ = "JWT",
    privateKey: KeyObject = this.keys.privateKey,
  ): string {
    const header = b64url(JSON.stringify({ alg: "RS256", typ, kid: this.keyId }));
    const payload = b64url(JSON.stringify(claims));
    const signature = sign("sha256", Buffer.from(`${header}.${payload}`), privateKey);
    return `${header}.${payload}.${b64url(signature)}`;
  }

  private publicJwk(): Record<string, unknown> {
    const jwk = this.keys.publicKey.export({ format: "jwk" });
    return { ...jwk, kid: this.keyId, alg: "RS256", use: "sig" };
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  }

  private fail(res: ServerResponse, problem: string, body?: unknown, status = 400): void {
    this.unexpected.push(problem);
    if (res.headersSent) return void res.end();
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body ?? { error: "invalid_request", error_description: problem }));
  }
}
