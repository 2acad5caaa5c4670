import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskState } from "@a2a-js/sdk";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OidcProviderDouble } from "./doubles/oidc-provider.js";
import { client10, sendRequest, taskAnswer } from "./support/a2a-clients.js";
import { apiRequest, type JsonBody, readJson } from "./support/http.js";
import { allToolNames, mcpClient } from "./support/mcp-client.js";
import { freePort } from "./support/ports.js";
import { serveWithAgents } from "./support/serve-with-agents.js";
import type { SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * A person holding an access token from the site's OIDC issuer (as an MCP client or an
 * agent gets one) reaches /api/v1, /a2a and /mcp with it as with their API key: as
 * themselves, seeing exactly the agents they may see, with their runs on their sessions.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-oidc-bearer-"));
const ADA = "ada@example.com";
const BOB = "bob@example.com";
const CLIENT_ID = "switchboard-site";

const agent = (name: string, who: string) => `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ${name}
  title: ${name}
  description: Only for ${who}.
  owner: team:tools
spec:
  runtime: { type: demo, delay_ms: 5 }
  access:
    view: ["user:${who}"]
    run: ["user:${who}"]
`;

let provider: OidcProviderDouble;
let serve: SwitchboardProcess;
let base: string;
let keys: Map<string, string>;
const clients: Client[] = [];

const names = (page: JsonBody) => (page.items as JsonBody[]).map((item) => item.name).sort();

describe("the OIDC issuer's tokens as a bearer credential", { timeout: 180_000 }, () => {
  beforeAll(async () => {
    provider = await OidcProviderDouble.start({ clientId: CLIENT_ID, clientSecret: "s3cret" });
    const file = join(root, "agents.yaml");
    writeFileSync(file, [agent("adas-helper", ADA), agent("bobs-helper", BOB)].join("---\n"));
    const port = await freePort();
    ({ serve, base, keys } = await serveWithAgents(
      file,
      {
        SWITCHBOARD_DATA_DIR: join(root, "data"),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        OIDC_ISSUER_URL: provider.issuer,
        OIDC_CLIENT_ID: CLIENT_ID,
        OIDC_CLIENT_SECRET: "s3cret",
      },
      [ADA, BOB],
      [],
      { port },
    ));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await serve?.kill();
    await provider?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("lists the person's agents at /api/v1, and an API key still works beside the token", async () => {
    const token = provider.accessToken({ email: ADA });
    const response = await apiRequest(base, token, "GET", "/agents");
    expect(response.status).toBe(200);
    const byToken = names(await readJson(response));
    expect(byToken).toContain("adas-helper");
    expect(byToken).not.toContain("bobs-helper");
    // Exactly what Ada's API key sees (the key still works beside the token).
    const byKey = await apiRequest(base, keys.get(ADA) as string, "GET", "/agents");
    expect(names(await readJson(byKey))).toEqual(byToken);
    const bobs = await apiRequest(base, provider.accessToken({ email: BOB }), "GET", "/agents");
    const bobsNames = names(await readJson(bobs));
    expect(bobsNames).toContain("bobs-helper");
    expect(bobsNames).not.toContain("adas-helper");
    // The issuer's keys were read once, from its discovery document's jwks_uri.
    expect(provider.requestsTo("/jwks").length).toBeGreaterThanOrEqual(1);
    expect(provider.unexpected).toEqual([]);
  });

  it("accepts a token issued for this Switchboard's MCP resource URL, and the site's ID tokens' audience", async () => {
    const forMcp = provider.accessToken({ email: ADA, aud: `${base}/mcp` });
    expect((await apiRequest(base, forMcp, "GET", "/agents")).status).toBe(200);
    const forSite = provider.accessToken({ email: ADA, aud: [base, "another-api"] });
    expect((await apiRequest(base, forSite, "GET", "/agents")).status).toBe(200);
  });

  it("reads the agent's card and runs it over A2A as the person, on their sessions", async () => {
    const token = provider.accessToken({ email: ADA });
    const client = await client10(`${base}/a2a/adas-helper/.well-known/agent-card.json`, token);
    const task = await client.sendMessage(sendRequest("Hello over OIDC"));
    if (!("status" in task)) throw new Error("expected a task");
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(taskAnswer(task)).toContain("Hello over OIDC");
    const session = await readJson(
      await apiRequest(base, keys.get(ADA) as string, "GET", `/sessions/${task.contextId}`),
    );
    expect(session).toMatchObject({ surface: "a2a", agent: "adas-helper" });
    // Bob's agent has no card for Ada.
    const card = await fetch(`${base}/a2a/bobs-helper/.well-known/agent-card.json`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(card.status).toBe(404);
  });

  it("lists exactly the person's agents as MCP tools", async () => {
    const ada = await mcpClient(base, provider.accessToken({ email: ADA }));
    const adaByKey = await mcpClient(base, keys.get(ADA) as string);
    const bob = await mcpClient(base, provider.accessToken({ email: BOB }));
    clients.push(ada, adaByKey, bob);
    const adas = await allToolNames(ada);
    expect(adas).toContain("adas-helper");
    expect(adas).not.toContain("bobs-helper");
    expect(adas.sort()).toEqual((await allToolNames(adaByKey)).sort());
    const bobs = await allToolNames(bob);
    expect(bobs).toContain("bobs-helper");
    expect(bobs).not.toContain("adas-helper");
  });
});
