import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { ManagedAgentsWireDouble } from "./doubles/managed-agents-wire.js";
import { a2aFixture } from "./runtime-contract/a2a-fixture.js";
import { agentCoreStreamingFixture } from "./runtime-contract/bedrock-agentcore-fixture.js";
import { claudeManagedAgentsFixture } from "./runtime-contract/claude-managed-agents-fixture.js";
import { cursorFixture } from "./runtime-contract/cursor-fixture.js";
import { databricksStreamingFixture } from "./runtime-contract/databricks-fixture.js";
import { demoFixture } from "./runtime-contract/demo-fixture.js";
import { elasticAgentBuilderFixture } from "./runtime-contract/elastic-agent-builder-fixture.js";
import type { RuntimeFixture } from "./runtime-contract/fixture.js";
import { httpSseFixture } from "./runtime-contract/http-fixture.js";
import { n8nFixture } from "./runtime-contract/n8n-fixture.js";
import { eventually } from "./support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "./support/http.js";
import { serveWithAgents } from "./support/serve-with-agents.js";
import type { SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * The "done when", end to end: `switchboard serve` on its embedded defaults, one
 * agent on each runtime (pointed at a local double of its vendor's wire API), and two turns
 * of one session each, through the REST API alone.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-runs-e2e-"));
const fixtures: Record<string, () => Promise<RuntimeFixture>> = {
  "demo-agent": demoFixture,
  "a2a-agent": a2aFixture,
  "managed-agent": claudeManagedAgentsFixture,
  "n8n-agent": n8nFixture,
  "http-agent": httpSseFixture,
  "databricks-agent": databricksStreamingFixture,
  "agentcore-agent": agentCoreStreamingFixture,
  "cursor-agent": cursorFixture,
  "elastic-agent": elasticAgentBuilderFixture,
};
const started: Record<string, RuntimeFixture> = {};
let serve: SwitchboardProcess;
let base: string;
let key: string;

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: JsonBody }> {
  const response = await apiRequest(base, key, method, path, body);
  return { status: response.status, body: await readJson(response) };
}

async function runToEnd(agent: string, input: string, sessionId?: string): Promise<JsonBody> {
  const started = await api("POST", `/agents/${agent}/runs`, { input, session_id: sessionId });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return eventually(async () => {
    const { body } = await api("GET", `/runs/${started.body.id}`);
    expect(body.status).toMatch(/succeeded|failed|cancelled/);
    return body;
  }, 30_000);
}

describe("one agent on each runtime, through the API", { timeout: 240_000 }, () => {
  beforeAll(async () => {
    const env: Record<string, string> = {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
    };
    const agentsDir = join(root, "agents");
    mkdirSync(agentsDir);
    for (const [name, factory] of Object.entries(fixtures)) {
      const fixture = await factory();
      started[name] = fixture;
      Object.assign(env, fixture.env);
      // The fixtures' { env: NAME } references: names the operator allows agents to read.
      env.RUNTIME_ENV_ALLOWLIST = [
        ...(env.RUNTIME_ENV_ALLOWLIST?.split(",").filter(Boolean) ?? []),
        ...Object.keys(fixture.env ?? {}),
      ].join(",");
      const manifest = {
        apiVersion: "switchboard/v1",
        kind: "Agent",
        metadata: { name, title: fixture.name, owner: "team:platform" },
        spec: { runtime: fixture.settings, access: { view: ["user:*"], run: ["user:*"] } },
      };
      writeFileSync(join(agentsDir, `${name}.yaml`), stringify(manifest));
    }
    ({ serve, base, key } = await serveWithAgents(agentsDir, env, "ada@example.com"));
  }, 200_000);

  afterAll(async () => {
    serve?.signal("SIGTERM");
    await serve?.exited;
    await Promise.all(Object.values(started).map((fixture) => fixture.close()));
    rmSync(root, { recursive: true, force: true });
  });

  it.each(Object.keys(fixtures))(
    "%s answers two turns of one session, and the session ends and opens again",
    async (agent) => {
      const first = await runToEnd(agent, "What is our refund policy?");
      expect(first, JSON.stringify(first.error)).toMatchObject({ status: "succeeded", attempt: 1 });
      expect(first.output).toContain("What is our refund policy?");
      expect(first.output).toMatch(/turn 1\b/);

      const second = await runToEnd(agent, "And for digital goods?", first.session_id);
      expect(second).toMatchObject({ status: "succeeded", session_id: first.session_id });
      expect(second.output).toContain("And for digital goods?");
      expect(second.output).toMatch(/turn 2\b/);

      const session = await api("GET", `/sessions/${first.session_id}`);
      expect(session.body.transcript).toHaveLength(4);
      const double = started[agent]?.double;
      expect(double?.unexpected() ?? []).toEqual([]);
      // The vendor saw both turns in one of its own sessions (agent, conversation, context).
      const [a, b] = double?.turns() ?? [];
      if (double) expect(b?.runtimeSession).toBe(a?.runtimeSession);
      // Cursor reports no price: each run is booked at the manifest's price per run.
      if (agent === "cursor-agent") expect(second.cost_usd).toBe(0.5);

      // Ending the session ends the runtime's own; a later turn opens both again.
      const closed = await api("POST", `/sessions/${first.session_id}/close`);
      expect(closed.status, JSON.stringify(closed.body)).toBe(200);
      expect(closed.body).toMatchObject({ status: "closed", runtime_closed: true });
      expect((await api("GET", `/sessions/${first.session_id}`)).body.status).toBe("closed");
      const third = await runToEnd(agent, "One more thing.", first.session_id);
      expect(third).toMatchObject({ status: "succeeded", session_id: first.session_id });
      expect((await api("GET", `/sessions/${first.session_id}`)).body.status).toBe("active");
      if (agent === "managed-agent") {
        const vendorSession = String(a?.runtimeSession);
        const managed = started[agent]?.double as unknown as ManagedAgentsWireDouble;
        expect(managed.session(vendorSession)?.archived).toBe(true);
        expect(double?.turns().at(-1)?.runtimeSession).not.toBe(vendorSession);
      }
      expect(double?.unexpected() ?? []).toEqual([]);
    },
  );

  it("refuses to close a session that is not the caller's, or that does not exist", async () => {
    const missing = await api("POST", "/sessions/00000000-0000-4000-8000-000000000000/close");
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).toContain("The session 00000000");
    expect((await api("POST", "/sessions/not-a-session/close")).status).toBe(404);
  });

  it("books AgentCore's compute in the ledger, as spend of its runtime", async () => {
    const runs = await runToEnd("agentcore-agent", "How much does this cost?");
    expect(runs.status).toBe("succeeded");
    const spend = await eventually(async () => {
      const { status, body } = await api("GET", "/spend?group_by=runtime");
      expect(status).toBe(200);
      const row = (body.items as Array<{ key: string; cost_usd: number; runs: number }>).find(
        (item) => item.key === "bedrock-agentcore",
      );
      expect(row?.cost_usd).toBeGreaterThan(0);
      return row;
    });
    expect(spend?.runs).toBeGreaterThan(0);
  });
});
