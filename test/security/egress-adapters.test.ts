import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  A2aRuntime,
  type AgentRuntime,
  BedrockAgentCoreRuntime,
  ClaudeManagedAgentsRuntime,
  CursorRuntime,
  DatabricksRuntime,
  DaytonaRuntime,
  E2bRuntime,
  EgressPolicy,
  ElasticAgentBuilderRuntime,
  HttpRuntime,
  isRuntimeError,
  N8nRuntime,
  RUNTIME_ERROR_CODES,
} from "../../runtimes/index.js";
import { DatabricksWorkspaceDouble } from "../doubles/databricks-serving.js";
import { InternalService } from "../doubles/internal-service.js";
import { type LoopbackServer, startLoopbackServer } from "../doubles/loopback-server.js";
import { collectTurn } from "../runtime-contract/collect-turn.js";
import { FOLLOWS_REDIRECTS, POINTED_AT_ENV, RUNTIMES_POINTED_AT } from "./runtimes-pointed-at.js";

/**
 * SSRF targets behind host names, against each adapter on its own. A bare adapter (what a
 * library user or a test gets without saying otherwise) refuses every internal address,
 * `localhost` included. A public-looking name that resolves inside (DNS the attacker
 * controls, here a resolver the test gives) is refused after resolution, directly and as a
 * redirect's target, and the error names the host, never the address it resolved to.
 */

const ADAPTERS: Record<string, (egress?: EgressPolicy) => AgentRuntime> = {
  http: (egress) => new HttpRuntime(egress ? { egress } : {}),
  n8n: (egress) => new N8nRuntime(egress ? { egress } : {}),
  a2a: (egress) => new A2aRuntime(egress ? { egress } : {}),
  "claude-managed-agents": (egress) => new ClaudeManagedAgentsRuntime(egress ? { egress } : {}),
  databricks: (egress) => new DatabricksRuntime(egress ? { egress } : {}),
  "bedrock-agentcore": (egress) => new BedrockAgentCoreRuntime(egress ? { egress } : {}),
  cursor: (egress) => new CursorRuntime(egress ? { egress } : {}),
  "elastic-agent-builder": (egress) => new ElasticAgentBuilderRuntime(egress ? { egress } : {}),
  daytona: (egress) => new DaytonaRuntime(egress ? { egress } : {}),
  e2b: (egress) => new E2bRuntime(egress ? { egress } : {}),
};

/** The attacker's DNS: these public-looking names resolve to the internal service. */
const attackerDns = new EgressPolicy({
  allow: ["127.0.0.1"],
  resolve: async (name) =>
    name.endsWith(".attacker.example") ? [{ address: "127.0.0.2", family: 4 }] : [],
});

let onLoopback: InternalService;
let internal: InternalService;
let redirector: LoopbackServer;
const runtimes: AgentRuntime[] = [];

async function refusal(runtime: AgentRuntime, settings: Record<string, unknown>) {
  const outcome = await collectTurn(runtime, settings, {
    sessionId: randomUUID(),
    input: "What is in there?",
    env: POINTED_AT_ENV,
  });
  const error = outcome.error;
  expect(isRuntimeError(error), `expected a RuntimeError, got ${String(error)}`).toBe(true);
  expect(error).toMatchObject({ code: RUNTIME_ERROR_CODES.egressRefused, retryable: false });
  return (error as Error).message;
}

function adapter(type: string, egress?: EgressPolicy): AgentRuntime {
  const runtime = (ADAPTERS[type] as (egress?: EgressPolicy) => AgentRuntime)(egress);
  runtimes.push(runtime);
  return runtime;
}

const pointedAt = (type: string, address: string) =>
  (RUNTIMES_POINTED_AT[type] as (address: string) => Record<string, unknown>)(address);

beforeAll(async () => {
  onLoopback = await InternalService.start("127.0.0.1");
  internal = await InternalService.start("127.0.0.2");
  redirector = await startLoopbackServer((req, res) => {
    req.resume();
    const location = `http://metadata.attacker.example:${internal.port}${req.url}`;
    res.writeHead(307, { location }).end();
  });
});
afterEach(() => {
  expect(onLoopback.connections, "connections to the service on 127.0.0.1").toBe(0);
  expect(internal.connections, "connections to the service on 127.0.0.2").toBe(0);
});
afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.close?.()));
  await Promise.all([onLoopback, internal, redirector].map((server) => server.close()));
});

describe("SSRF targets behind host names, adapter by adapter", () => {
  it.each(Object.keys(ADAPTERS))(
    "%s: a bare adapter refuses localhost, after resolving it",
    async (type) => {
      const message = await refusal(
        adapter(type),
        pointedAt(type, `http://localhost:${onLoopback.port}`),
      );
      expect(message).toMatch(
        /localhost resolves to a private address this Switchboard's agents may not reach; an operator can allow it with RUNTIME_EGRESS_ALLOW/,
      );
    },
  );

  it.each(Object.keys(ADAPTERS))(
    "%s: a public-looking name that resolves inside is refused, naming only the host",
    async (type) => {
      const address = `http://agent.attacker.example:${internal.port}`;
      const message = await refusal(adapter(type, attackerDns), pointedAt(type, address));
      expect(message).toContain("agent.attacker.example resolves to a private address");
      expect(message).not.toContain("127.0.0.2");
    },
  );

  it.each([...FOLLOWS_REDIRECTS])(
    "%s: a redirect to another host is refused before anything connects there",
    async (type) => {
      const message = await refusal(adapter(type, attackerDns), pointedAt(type, redirector.url));
      expect(message).toContain(
        `redirected to another host, metadata.attacker.example:${internal.port}`,
      );
    },
  );

  it.each([...FOLLOWS_REDIRECTS])(
    "%s: a redirect to another allowed host is refused too: the agent's headers stay with it",
    async (type) => {
      const toLoopback = await startLoopbackServer((req, res) => {
        req.resume();
        res.writeHead(307, { location: `http://127.0.0.1:${onLoopback.port}${req.url}` }).end();
      });
      try {
        const allowed = new EgressPolicy({ allow: ["127.0.0.1"] });
        const message = await refusal(adapter(type, allowed), pointedAt(type, toLoopback.url));
        expect(message).toContain(`redirected to another host, 127.0.0.1:${onLoopback.port}`);
      } finally {
        await toLoopback.close();
      }
    },
  );

  it("databricks: a service principal's secret never goes to a workspace that resolves inside", async () => {
    const message = await refusal(adapter("databricks", attackerDns), {
      type: "databricks",
      workspace_url: `http://workspace.attacker.example:${internal.port}`,
      endpoint: "egress-agent",
      auth: { client_id: "sp-egress", client_secret: { env: "EGRESS_TEST_DATABRICKS_SECRET" } },
    });
    expect(message).toContain("workspace.attacker.example resolves to a private address");
    expect(message).not.toContain("dose-egress-test");
  });

  it("databricks: an app URL that resolves inside is refused, after a real token was issued", async () => {
    const workspace = await DatabricksWorkspaceDouble.start({
      app: true,
      oauth: { clientId: "sp-egress", clientSecret: "dose-egress-test" },
    });
    try {
      const message = await refusal(adapter("databricks", attackerDns), {
        type: "databricks",
        workspace_url: workspace.url,
        app_url: `http://app.attacker.example:${internal.port}`,
        auth: { client_id: "sp-egress", client_secret: { env: "EGRESS_TEST_DATABRICKS_SECRET" } },
      });
      expect(workspace.tokenRequests).toHaveLength(1);
      expect(message).toContain("app.attacker.example resolves to a private address");
    } finally {
      await workspace.close();
    }
  });
});
