import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { InternalService } from "../doubles/internal-service.js";
import { type LoopbackServer, startLoopbackServer } from "../doubles/loopback-server.js";
import { a2aFixture } from "../runtime-contract/a2a-fixture.js";
import { agentCoreStreamingFixture } from "../runtime-contract/bedrock-agentcore-fixture.js";
import { claudeManagedAgentsFixture } from "../runtime-contract/claude-managed-agents-fixture.js";
import { databricksStreamingFixture } from "../runtime-contract/databricks-fixture.js";
import type { RuntimeFixture } from "../runtime-contract/fixture.js";
import { httpFixture } from "../runtime-contract/http-fixture.js";
import { n8nFixture } from "../runtime-contract/n8n-fixture.js";
import { eventually } from "../support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "../support/http.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { serveWithAgents } from "../support/serve-with-agents.js";
import type { SwitchboardProcess } from "../support/switchboard-process.js";
import { FOLLOWS_REDIRECTS, POINTED_AT_ENV, RUNTIMES_POINTED_AT } from "./runtimes-pointed-at.js";

/**
 * SSRF targets. Mallory, an ordinary person, owns agents whose URLs point inside the
 * network Switchboard runs in (loopback, cloud metadata, private ranges, IPv6 and
 * IPv4-mapped forms) or at an agent that redirects there, on every runtime that makes HTTP
 * calls. Switchboard runs as in production, on PostgreSQL, and its operator allowed only
 * 127.0.0.1, where the legitimate agents (the runtimes' doubles) are; the internal service
 * listens on 127.0.0.2 and ::1. No run may connect to it, and each run's error says why in
 * words, without quoting what the internal service would have answered.
 */

const REFUSED =
  /is a private address this Switchboard's agents may not reach; an operator can allow it with RUNTIME_EGRESS_ALLOW/;
const SECRET_TAIL = "END-OF-THE-AGENT-S-100-KB-ERROR";

const root = mkdtempSync(join(tmpdir(), "switchboard-egress-"));
/** The legitimate agent of each runtime, on the allowed address. */
const fixtures: Record<string, () => Promise<RuntimeFixture>> = {
  http: httpFixture,
  n8n: n8nFixture,
  a2a: a2aFixture,
  "claude-managed-agents": claudeManagedAgentsFixture,
  databricks: databricksStreamingFixture,
  "bedrock-agentcore": agentCoreStreamingFixture,
};
const started: Record<string, RuntimeFixture> = {};
let database: TestDatabase;
let internal: InternalService;
let internalV6: InternalService;
let redirector: LoopbackServer;
let endpointCard: LoopbackServer;
let verbose: LoopbackServer;
let serve: SwitchboardProcess;
let base: string;
let key: string;

/** The targets, by the suffix of the agent pointed at them. */
function targets(): Record<string, string> {
  return {
    loopback: internal.url,
    "ipv6-loopback": internalV6.url,
    "mapped-loopback": `http://[::ffff:127.0.0.2]:${internal.port}`,
    metadata: "http://169.254.169.254",
    private: "http://10.0.0.1",
  };
}

function manifest(name: string, runtime: Record<string, unknown>) {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title: name, owner: "user:mallory@example.com" },
    spec: { runtime, access: { view: ["user:*"], run: ["user:*"] } },
  };
}

async function runToEnd(agent: string): Promise<JsonBody> {
  const started = await apiRequest(base, key, "POST", `/agents/${agent}/runs`, {
    input: "What is in there?",
  });
  const run = await readJson(started);
  expect(started.status, JSON.stringify(run)).toBe(201);
  return eventually(async () => {
    const body = await readJson(await apiRequest(base, key, "GET", `/runs/${run.id}`));
    expect(body.status).toMatch(/succeeded|failed|cancelled/);
    return body;
  }, 30_000);
}

beforeAll(async () => {
  internal = await InternalService.start("127.0.0.2");
  internalV6 = await InternalService.start("::1");
  // An agent on an allowed address that sends every request on to the internal service.
  redirector = await startLoopbackServer((req, res) => {
    req.resume();
    res.writeHead(307, { location: `${internal.url}${req.url}` }).end();
  });
  // A well-formed A2A card on an allowed address, whose endpoint is the internal service.
  endpointCard = await startLoopbackServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        name: "Innocent agent",
        description: "Says it lives elsewhere.",
        version: "1.0.0",
        supportedInterfaces: [
          { url: `${internal.url}/a2a`, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
        ],
        capabilities: { streaming: false },
        defaultInputModes: ["text/plain"],
        defaultOutputModes: ["text/plain"],
        skills: [],
      }),
    );
  });
  // An agent that refuses with a 100 KB error body (JSON for the Anthropic API's shape).
  const body = `Traceback from db-7.corp.internal:5432\n\u001b[31m${"x".repeat(100_000)}${SECRET_TAIL}`;
  verbose = await startLoopbackServer((req, res) => {
    req.resume();
    if (req.url?.startsWith("/runtimes/")) {
      // AWS's restJson1 error shape (AgentCore).
      res.writeHead(400, {
        "content-type": "application/json",
        "x-amzn-errortype": "ValidationException",
      });
      res.end(JSON.stringify({ message: body }));
    } else if (req.url?.startsWith("/v1/")) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: body } }),
      );
    } else {
      res.writeHead(400, { "content-type": "text/plain" }).end(body);
    }
  });

  database = await createTestDatabase("egress");
  const env: Record<string, string> = {
    ...POINTED_AT_ENV,
    DATABASE_URL: database.url,
    RUNTIME_EGRESS_ALLOW: "127.0.0.1",
    LOG_LEVEL: "warn",
  };
  const agentsDir = join(root, "agents");
  mkdirSync(agentsDir);
  const write = (name: string, runtime: Record<string, unknown>) =>
    writeFileSync(join(agentsDir, `${name}.yaml`), stringify(manifest(name, runtime)));
  const envNames = Object.keys(POINTED_AT_ENV);
  for (const [runtime, factory] of Object.entries(fixtures)) {
    const fixture = await factory();
    started[runtime] = fixture;
    Object.assign(env, fixture.env);
    envNames.push(...Object.keys(fixture.env ?? {}));
    const pointedAt = RUNTIMES_POINTED_AT[runtime] as (address: string) => Record<string, unknown>;
    write(`${runtime}-allowed`, fixture.settings);
    for (const [target, address] of Object.entries(targets())) {
      write(`${runtime}-${target}`, pointedAt(address));
    }
    write(`${runtime}-redirect`, pointedAt(redirector.url));
    write(`${runtime}-verbose`, pointedAt(verbose.url));
  }
  // The manifests' { env: NAME } references: names the operator allows agents to read.
  env.RUNTIME_ENV_ALLOWLIST = envNames.join(",");
  write("a2a-internal-endpoint", { type: "a2a", url: endpointCard.url });

  ({ serve, base, key } = await serveWithAgents(agentsDir, env, "mallory@example.com"));
}, 200_000);

afterAll(async () => {
  serve?.signal("SIGTERM");
  await serve?.exited;
  await Promise.all(Object.values(started).map((fixture) => fixture.close()));
  await Promise.all(
    [internal, internalV6, redirector, endpointCard, verbose].map((server) => server?.close()),
  );
  await database?.drop();
  rmSync(root, { recursive: true, force: true });
});

describe("SSRF targets, through a Switchboard on PostgreSQL", { timeout: 120_000 }, () => {
  it.each(Object.keys(fixtures))(
    "%s: an internal address fails the run at once, in words, and is never connected to",
    async (runtime) => {
      const runs = await Promise.all(
        Object.keys(targets()).map(async (target) => [
          target,
          await runToEnd(`${runtime}-${target}`),
        ]),
      );
      for (const [target, run] of runs as [string, JsonBody][]) {
        expect(run, `${runtime}-${target}`).toMatchObject({
          status: "failed",
          attempt: 1,
          error: { code: "egress_refused" },
        });
        expect(run.error.message, target).toMatch(REFUSED);
        expect(run.error.message).not.toContain("internal-secret");
      }
      expect(internal.connections).toBe(0);
      expect(internalV6.connections).toBe(0);
    },
  );

  it.each(Object.keys(fixtures))(
    "%s: an allowed agent that redirects inside is not followed there",
    async (runtime) => {
      const run = await runToEnd(`${runtime}-redirect`);
      expect(run.status).toBe("failed");
      expect(run.attempt).toBe(1);
      if (FOLLOWS_REDIRECTS.has(runtime)) {
        // Their SDKs follow redirects only on the agent's own host.
        expect(run.error).toMatchObject({ code: "egress_refused" });
        expect(run.error.message).toContain("redirected to another host, 127.0.0.2");
      } else {
        // Plain HTTP calls never follow redirects: the answer is the 307 itself.
        expect(run.error.message).toMatch(/HTTP 307/);
      }
      expect(internal.connections).toBe(0);
    },
  );

  it("a2a: a card on an allowed address cannot send the calls to an internal endpoint", async () => {
    const run = await runToEnd("a2a-internal-endpoint");
    expect(run).toMatchObject({ status: "failed", error: { code: "egress_refused" } });
    expect(run.error.message).toMatch(REFUSED);
    expect(internal.connections).toBe(0);
  });

  it.each(Object.keys(fixtures))(
    "%s: the agent at the address the operator allowed answers",
    async (runtime) => {
      const run = await runToEnd(`${runtime}-allowed`);
      expect(run, JSON.stringify(run.error)).toMatchObject({ status: "succeeded" });
      expect(run.output).toContain("What is in there?");
      expect(started[runtime]?.double?.unexpected() ?? []).toEqual([]);
    },
  );

  it.each(Object.keys(fixtures))(
    "%s: a 100 KB error from the agent shows as a short excerpt on one line",
    async (runtime) => {
      const run = await runToEnd(`${runtime}-verbose`);
      expect(run).toMatchObject({ status: "failed", attempt: 1 });
      const message: string = run.error.message;
      expect(message).toContain("Traceback from db-7.corp.internal:5432");
      expect(message.length).toBeLessThan(400);
      for (const character of ["\n", "\r", "\u001b"]) expect(message).not.toContain(character);
      expect(message).not.toContain(SECRET_TAIL);
    },
  );
});
