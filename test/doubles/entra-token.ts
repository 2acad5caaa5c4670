import { randomUUID } from "node:crypto";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for Microsoft Entra ID's token endpoint
 * (POST /{tenant}/oauth2/v2.0/token, client credentials grant, as in Microsoft's
 * "OAuth 2.0 client credentials flow" reference): a form with grant_type, client_id,
 * client_secret and scope; answers { token_type, expires_in, access_token } or, for wrong
 * credentials, HTTP 401 { error: "invalid_client" }. Tokens it issued are what the Bot
 * Connector double accepts. Other requests are unexpected and fail `verify()`.
 */
export class EntraTokenDouble {
  readonly unexpected: string[] = [];
  readonly issued = new Set<string>();
  /** The forms posted, for tests that look at what was sent (secret included). */
  readonly requests: Record<string, string>[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    private readonly expected: { tenantId: string; appId: string; appPassword: string },
  ) {}

  static async start(expected: {
    tenantId: string;
    appId: string;
    appPassword: string;
  }): Promise<EntraTokenDouble> {
    let double: EntraTokenDouble | undefined;
    const server = await startLoopbackServer((req, res) => {
      void readBody(req).then((body) => {
        const answer = double?.answer(req.method, req.url, body) ?? { status: 500, body: {} };
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
      });
    });
    double = new EntraTokenDouble(server, expected);
    return double;
  }

  get tokenUrl(): string {
    return `${this.server.url}/${this.expected.tenantId}/oauth2/v2.0/token`;
  }

  verify(): void {
    if (this.unexpected.length > 0) {
      throw new Error(`unexpected requests to the Entra double: ${this.unexpected}`);
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private answer(method: string | undefined, url: string | undefined, body: string) {
    if (method !== "POST" || url !== `/${this.expected.tenantId}/oauth2/v2.0/token`) {
      this.unexpected.push(`${method} ${url}`);
      return { status: 404, body: { error: "not_found" } };
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    this.requests.push(form);
    if (form.grant_type !== "client_credentials" || !form.scope) {
      this.unexpected.push(`token request without client_credentials or scope: ${form.grant_type}`);
      return { status: 400, body: { error: "invalid_request" } };
    }
    if (
      form.client_id !== this.expected.appId ||
      form.client_secret !== this.expected.appPassword
    ) {
      return {
        status: 401,
        body: {
          error: "invalid_client",
          error_description: "AADSTS7000215: Invalid client secret",
        },
      };
    }
    const token = `entra-${randomUUID()}`;
    this.issued.add(token);
    return { status: 200, body: { token_type: "Bearer", expires_in: 3599, access_token: token } };
  }
}
