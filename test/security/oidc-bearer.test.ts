import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OidcProviderDouble } from "../doubles/oidc-provider.js";
import { apiRequest, readJson } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { serveWithAgents } from "../support/serve-with-agents.js";
import type { SwitchboardProcess } from "../support/switchboard-process.js";

/**
 * Forged and stolen-looking tokens from the site's OIDC issuer sent as bearer credentials to
 * /api/v1, /a2a and /mcp: expired, from another issuer, for another audience, signed with a
 * key the issuer never published, unsigned (`alg: none`), naming a person Switchboard does
 * not know or has deactivated. Each a 401 (403 for the deactivated) in words that says what
 * was wrong with the token — never "unknown API key" — and no token in the logs; an API key
 * beside them still works and is never sent to the issuer.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-oidc-bearer-security-"));
const ADA = "ada@example.com";
const LEAVER = "leaver@example.com";
const CLIENT_ID = "switchboard-site";
const SCIM_TOKEN = "scim-token-for-the-oidc-bearer-test-0123456789";

const AGENT = `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: adas-helper
  title: Ada's helper
  description: Only for Ada.
  owner: team:tools
spec:
  runtime: { type: demo, delay_ms: 5 }
  access:
    view: ["user:${ADA}"]
    run: ["user:${ADA}"]
`;

let provider: OidcProviderDouble;
let stranger: OidcProviderDouble;
let serve: SwitchboardProcess;
let base: string;
let adaKey: string;
const sentTokens: string[] = [];

/** The same token at the three surfaces: the status and message each answers with. */
async function everywhere(
  token: string,
): Promise<{ status: number; message: string; challenge: string | null }[]> {
  sentTokens.push(token);
  const authorization = `Bearer ${token}`;
  const api = await apiRequest(base, token, "GET", "/agents");
  const card = await fetch(`${base}/a2a/adas-helper/.well-known/agent-card.json`, {
    headers: { authorization },
  });
  const mcp = await fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      authorization,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  const answers = [];
  for (const response of [api, card, mcp]) {
    const text = await response.text();
    const message = response.ok ? "" : String(JSON.parse(text).error?.message ?? "");
    answers.push({
      status: response.status,
      message,
      challenge: response.headers.get("www-authenticate"),
    });
  }
  return answers;
}

async function refusedEverywhere(token: string, status: number, words: RegExp): Promise<void> {
  for (const answer of await everywhere(token)) {
    expect(answer.status).toBe(status);
    expect(answer.message).toMatch(words);
    expect(answer.message).not.toMatch(/API key is not valid/);
    // A 401 still tells the client how to authenticate (MCP's names the resource metadata).
    if (status === 401) expect(answer.challenge).toMatch(/^Bearer /);
  }
}

describe("the issuer's tokens at /api/v1, /a2a and /mcp, forged", { timeout: 180_000 }, () => {
  beforeAll(async () => {
    provider = await OidcProviderDouble.start({ clientId: CLIENT_ID, clientSecret: "s3cret" });
    stranger = await OidcProviderDouble.start({ clientId: CLIENT_ID });
    const file = join(root, "agents.yaml");
    writeFileSync(file, AGENT);
    const port = await freePort();
    let keys: Map<string, string>;
    ({ serve, base, keys } = await serveWithAgents(
      file,
      {
        SWITCHBOARD_DATA_DIR: join(root, "data"),
        LOG_LEVEL: "debug",
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        OIDC_ISSUER_URL: provider.issuer,
        OIDC_CLIENT_ID: CLIENT_ID,
        OIDC_CLIENT_SECRET: "s3cret",
        SCIM_TOKEN,
      },
      [ADA],
      [],
      { port },
    ));
    adaKey = keys.get(ADA) as string;
    // A person the identity provider made and then deactivated.
    const made = await fetch(`${base}/scim/v2/Users`, {
      method: "POST",
      headers: { authorization: `Bearer ${SCIM_TOKEN}`, "content-type": "application/scim+json" },
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: LEAVER,
        emails: [{ value: LEAVER, primary: true }],
        active: false,
      }),
    });
    expect(made.status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await serve?.kill();
    await provider?.close();
    await stranger?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("answers a good token (the baseline the forgeries are measured against)", async () => {
    for (const answer of await everywhere(provider.accessToken({ email: ADA }))) {
      expect(answer.status).toBe(200);
    }
    const mcp = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: { authorization: "Bearer not.a.jwt", "content-type": "application/json" },
      body: "{}",
    });
    expect(mcp.status).toBe(401);
    expect(mcp.headers.get("www-authenticate")).toMatch(/resource_metadata=.*invalid_token/);
  });

  it("refuses an expired token", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const token = provider.accessToken({ email: ADA, iat: past - 300, exp: past });
    await refusedEverywhere(token, 401, /has expired/);
  });

  it("refuses a token not yet valid", async () => {
    const later = Math.floor(Date.now() / 1000) + 3600;
    await refusedEverywhere(provider.accessToken({ email: ADA, nbf: later }), 401, /not valid yet/);
  });

  it("refuses a token of another issuer, whether signed by it or by ours", async () => {
    await refusedEverywhere(stranger.accessToken({ email: ADA }), 401, /signature is not/);
    await refusedEverywhere(
      provider.accessToken({ email: ADA, iss: stranger.issuer }),
      401,
      /not issued by/,
    );
  });

  it("refuses a token issued for another audience, or for none", async () => {
    await refusedEverywhere(
      provider.accessToken({ email: ADA, aud: "https://other-api.example.com" }),
      401,
      /not issued for Switchboard/,
    );
    await refusedEverywhere(
      provider.accessToken({ email: ADA, aud: null }),
      401,
      /not issued for Switchboard/,
    );
  });

  it("refuses a token signed with a key the issuer never published", async () => {
    await refusedEverywhere(
      provider.accessToken({ email: ADA }, { signedBy: "stranger" }),
      401,
      /signature is not/,
    );
  });

  it("refuses an unsigned token (alg: none)", async () => {
    await refusedEverywhere(
      provider.accessToken({ email: ADA }, { signedBy: "none" }),
      401,
      /not signed with an algorithm/,
    );
  });

  it("refuses a token whose claims were changed after signing", async () => {
    const [header, , signature] = provider.accessToken({ email: ADA }).split(".");
    const forged = Buffer.from(
      JSON.stringify({
        iss: provider.issuer,
        aud: CLIENT_ID,
        sub: "subject-1",
        email: "admin@example.com",
        exp: Math.floor(Date.now() / 1000) + 300,
      }),
    ).toString("base64url");
    await refusedEverywhere(`${header}.${forged}.${signature}`, 401, /signature is not/);
  });

  it("refuses a person Switchboard does not know, one without an email, and a deactivated one", async () => {
    await refusedEverywhere(
      provider.accessToken({ email: "eve@example.com" }),
      401,
      /No Switchboard account has the email eve@example\.com/,
    );
    await refusedEverywhere(
      provider.accessToken({ email: null }),
      403,
      /did not share your email address/,
    );
    await refusedEverywhere(provider.accessToken({ email: LEAVER }), 403, /deactivated/);
  });

  it("refuses a value shaped like a JWT that is not one, in words about the token", async () => {
    await refusedEverywhere("not.a.jwt", 401, /not a valid JWT/);
  });

  it("keeps API keys working beside the tokens, and never sends one to the issuer", async () => {
    const before = provider.requests.length;
    expect((await apiRequest(base, adaKey, "GET", "/agents")).status).toBe(200);
    const wrongKey = await apiRequest(base, `${adaKey}x`, "GET", "/agents");
    expect(wrongKey.status).toBe(401);
    expect((await readJson(wrongKey)).error.message).toMatch(/API key is not valid/);
    expect(provider.requests.length).toBe(before);
    expect(JSON.stringify(provider.requests)).not.toContain(adaKey);
  });

  it("writes no token to the logs", () => {
    const logs = serve.stdout + serve.stderr;
    expect(logs).toContain("bearer token refused");
    for (const token of sentTokens) {
      const signature = token.split(".")[2];
      if (signature) expect(logs).not.toContain(signature);
      expect(logs).not.toContain(token);
    }
    expect(provider.unexpected).toEqual([]);
  });
});
