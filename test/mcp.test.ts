import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "./support/http.js";
import { allToolNames, mcpClient, textOf } from "./support/mcp-client.js";
import { serveWithAgents } from "./support/serve-with-agents.js";
import { runSwitchboard, type SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * The MCP server at /mcp as a coding tool uses it: the official MCP TypeScript client
 * against a running `switchboard serve` on its embedded defaults, with people's API keys.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-mcp-"));
const ADA = "ada@example.com";
const BOB = "bob@example.com";
const DAVE = "dave@example.com";
const ERIN = "erin@example.com";

function demoAgent(
  name: string,
  access: { view: string[]; run: string[] },
  options: { delayMs?: number; description?: string; maxCostUsd?: number } = {},
): string {
  return `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ${name}
  title: ${name} agent
  description: ${options.description ?? `The ${name} agent.`}
  owner: team:tools
spec:
  runtime:
    type: demo
    delay_ms: ${options.delayMs ?? 5}
  skills:
    - name: echo
      description: Repeats what it is told.
      examples: ["Say hello"]
  access:
    view: ${JSON.stringify(access.view)}
    run: ${JSON.stringify(access.run)}
${options.maxCostUsd === undefined ? "" : `  limits:\n    max_cost_usd_per_run: ${options.maxCostUsd}\n`}`;
}

const MANIFESTS = [
  demoAgent(
    "helper",
    { view: [`user:${ADA}`], run: [`user:${ADA}`] },
    {
      description: "Helps with anything you ask.",
    },
  ),
  demoAgent("slow", { view: [`user:${ADA}`], run: [`user:${ADA}`] }, { delayMs: 600 }),
  demoAgent("view-only", { view: ["user:*"], run: ["user:carol@example.com"] }),
  demoAgent("hidden", { view: ["user:carol@example.com"], run: ["user:carol@example.com"] }),
  demoAgent("granted-later", { view: ["user:*"], run: ["user:carol@example.com"] }),
  demoAgent("capped-hard", { view: [`user:${ERIN}`], run: [`user:${ERIN}`] }, { maxCostUsd: 1 }),
  demoAgent("capped-held", { view: [`user:${ERIN}`], run: [`user:${ERIN}`] }, { maxCostUsd: 1 }),
  // Enough for dave to page through: 105 of his own, and the demo agent everyone may run.
  ...Array.from({ length: 105 }, (_, i) =>
    demoAgent(`bulk-${String(i).padStart(3, "0")}`, {
      view: [`user:${DAVE}`],
      run: [`user:${DAVE}`],
    }),
  ),
].join("---\n");

let serve: SwitchboardProcess;
let base: string;
let keys: Map<string, string>;
let env: Record<string, string>;
const clients: Client[] = [];

async function connect(person: string): Promise<Client> {
  const client = await mcpClient(base, keys.get(person) as string);
  clients.push(client);
  return client;
}

async function api(person: string, path: string): Promise<JsonBody> {
  const response = await apiRequest(base, keys.get(person) as string, "GET", path);
  expect(response.status).toBe(200);
  return readJson(response);
}

describe("the MCP server at /mcp", { timeout: 240_000 }, () => {
  beforeAll(async () => {
    const file = join(root, "agents.yaml");
    writeFileSync(file, MANIFESTS);
    env = {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      MCP_TOOLS_CHECK_MS: "300",
    };
    ({ serve, base, keys } = await serveWithAgents(file, env, [ADA, BOB, DAVE, ERIN]));
  }, 400_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await serve?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("offers exactly the agents the person may run, each as a tool, paged", async () => {
    const ada = await connect(ADA);
    expect(ada.getServerCapabilities()?.tools?.listChanged).toBe(true);
    const { tools, nextCursor } = await ada.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(["demo", "helper", "slow"]);
    expect(nextCursor).toBeUndefined();
    const helper = tools.find((tool) => tool.name === "helper");
    expect(helper?.description).toContain("Helps with anything you ask.");
    expect(helper?.description).toContain("echo: Repeats what it is told.");
    expect(helper?.inputSchema).toMatchObject({
      type: "object",
      properties: { request: { type: "string" }, session_id: { type: "string" } },
      required: ["request"],
    });

    const dave = await connect(DAVE);
    const first = await dave.listTools();
    expect(first.tools).toHaveLength(100);
    expect(first.nextCursor).toBeTruthy();
    const names = await allToolNames(dave);
    expect(names).toHaveLength(106);
    expect(new Set(names).size).toBe(106);
    expect(names).toContain("demo");
  });

  it("holds a two-turn conversation through session_id, marked mcp in the person's sessions", async () => {
    const ada = await connect(ADA);
    const first = await ada.callTool({ name: "helper", arguments: { request: "hello there" } });
    expect(first.isError).toBeFalsy();
    expect(textOf(first)).toContain('You said: "hello there". This is turn 1');
    const structured = first.structuredContent as Record<string, unknown>;
    const sessionId = structured.session_id as string;
    expect(structured.session_url).toBe(`${base}/sessions/${sessionId}`);
    expect(textOf(first)).toContain(`${base}/sessions/${sessionId}`);

    const second = await ada.callTool({
      name: "helper",
      arguments: { request: "and again", session_id: sessionId },
    });
    expect(textOf(second)).toContain("This is turn 2");
    expect((second.structuredContent as Record<string, unknown>).session_id).toBe(sessionId);

    const session = await api(ADA, `/sessions/${sessionId}`);
    expect(session.surface).toBe("mcp");
    expect(session.agent).toBe("helper");
    expect(session.runs.map((run: JsonBody) => [run.surface, run.status])).toEqual([
      ["mcp", "succeeded"],
      ["mcp", "succeeded"],
    ]);
    expect(session.transcript.map((entry: JsonBody) => entry.role)).toEqual([
      "user",
      "agent",
      "user",
      "agent",
    ]);
  });

  it("sends progress notifications while the agent works", async () => {
    const ada = await connect(ADA);
    const progress: { progress: number; message?: string }[] = [];
    const result = await ada.callTool({ name: "slow", arguments: { request: "go" } }, undefined, {
      onprogress: (update) => progress.push(update),
      resetTimeoutOnProgress: true,
    });
    expect(textOf(result)).toContain('You said: "go"');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const values = progress.map((update) => update.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
    expect(progress.map((update) => update.message)).toContain("running");
    expect(progress.some((update) => update.message?.includes("You said"))).toBe(true);
  });

  it("cancels the run when the client cancels the call", async () => {
    const ada = await connect(ADA);
    const abort = new AbortController();
    const call = ada.callTool(
      { name: "slow", arguments: { request: "cancel me please" } },
      undefined,
      {
        signal: abort.signal,
        onprogress: (update) => {
          if (update.message === "running") abort.abort("changed my mind");
        },
      },
    );
    await expect(call).rejects.toThrow();
    await eventually(async () => {
      const sessions = await api(ADA, "/sessions?agent=slow");
      const session = await api(ADA, `/sessions/${sessions.items[0].id}`);
      expect(session.transcript[0].content).toBe("cancel me please");
      expect(session.runs[0].status).toBe("cancelled");
    }, 20_000);
  });

  it("cancels the run when the HTTP request goes away", async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${keys.get(ADA)}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "slow", arguments: { request: "hang up on me" } },
      }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    controller.abort();
    await eventually(async () => {
      const sessions = await api(ADA, "/sessions?agent=slow");
      const session = await api(ADA, `/sessions/${sessions.items[0].id}`);
      expect(session.transcript[0].content).toBe("hang up on me");
      expect(session.runs[0].status).toBe("cancelled");
    }, 20_000);
  });

  it("refuses a caller without access: no tool, a refused call, hidden agents unknown", async () => {
    const bob = await connect(BOB);
    expect(await allToolNames(bob)).toEqual(["demo"]);
    const refused = await bob.callTool({ name: "view-only", arguments: { request: "hi" } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('You may view "view-only" but not run it');
    const hidden = await bob
      .callTool({ name: "hidden", arguments: { request: "hi" } })
      .catch((error: Error) => error);
    const missing = await bob
      .callTool({ name: "no-such-agent", arguments: { request: "hi" } })
      .catch((error: Error) => error);
    expect(hidden).toBeInstanceOf(Error);
    expect(String(hidden)).toContain("Unknown tool: hidden");
    expect(String(missing)).toContain("Unknown tool: no-such-agent");
    expect(String(hidden).replace("hidden", "X")).toBe(
      String(missing).replace("no-such-agent", "X"),
    );
  });

  it("answers a budget's refusal or hold as a tool error in words", async () => {
    for (const [agent, mode] of [
      ["capped-hard", "hard"],
      ["capped-held", "approval"],
    ]) {
      const set = await runSwitchboard(
        [
          "budgets",
          "set",
          `agent:${agent}`,
          "--period",
          "month",
          "--amount",
          "0.01",
          "--mode",
          mode as string,
        ],
        env,
      );
      expect(set.code, set.stderr).toBe(0);
    }
    const erin = await connect(ERIN);
    const refused = await erin.callTool({ name: "capped-hard", arguments: { request: "hi" } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/budget/i);
    const held = await erin.callTool({ name: "capped-held", arguments: { request: "hi" } });
    expect(held.isError).toBe(true);
    expect(textOf(held)).toContain("It waits for an approver's yes.");
    expect(textOf(held)).toMatch(new RegExp(`${base}/sessions/[0-9a-f-]{36}`));
    const sessions = await api(ERIN, "/sessions?agent=capped-held");
    const session = await api(ERIN, `/sessions/${sessions.items[0].id}`);
    expect(session.runs[0].status).toBe("needs_approval");
    expect(await api(ERIN, "/sessions?agent=capped-hard")).toMatchObject({ items: [] });
  });

  it("answers a missing or bad key with 401 and where to find the resource metadata", async () => {
    const cases = [
      [undefined, "Send a Switchboard API key as `Authorization: Bearer <key>`"],
      ["Bearer sb_not_a_real_key", "The API key is not valid"],
    ] as const;
    for (const [authorization, words] of cases) {
      const response = await fetch(`${base}/mcp`, {
        method: "POST",
        headers: {
          ...(authorization ? { authorization } : {}),
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain(
        `resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`,
      );
      expect((await readJson(response)).error.message).toContain(words);
    }
    for (const path of [
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-protected-resource",
    ]) {
      const metadata = await readJson(await fetch(`${base}${path}`));
      expect(metadata.resource).toBe(`${base}/mcp`);
      expect(metadata.bearer_methods_supported).toEqual(["header"]);
      // No OIDC issuer on the embedded default: no authorization server to name.
      expect(metadata.authorization_servers).toBeUndefined();
    }
    // The official client gives up on connecting with the status and the words.
    const refused = await mcpClient(base, "sb_not_a_real_key").catch((error: Error) => error);
    expect(refused).toMatchObject({ code: 401 });
    expect(String(refused)).toContain("The API key is not valid");
  });

  it("tells a connected client its tools changed when access is granted", async () => {
    const bob = await connect(BOB);
    let changed = 0;
    bob.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed += 1;
    });
    expect(await allToolNames(bob)).toEqual(["demo"]);
    // Give the notification stream time to open and take its first look.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const granted = await runSwitchboard(
      ["authz", "grant", BOB, "runner", "agent:granted-later"],
      env,
    );
    expect(granted.code, granted.stderr).toBe(0);
    await eventually(async () => expect(changed).toBeGreaterThan(0), 15_000);
    expect(await allToolNames(bob)).toEqual(["demo", "granted-later"]);
    const answer = await bob.callTool({ name: "granted-later", arguments: { request: "now?" } });
    expect(answer.isError).toBeFalsy();
  });

  it("names the MCP server in GET /api/v1/agents and the OpenAPI document", async () => {
    const list = await api(ADA, "/agents");
    expect(list.mcp_url).toBe(`${base}/mcp`);
    const openapi = await readJson(await fetch(`${base}/api/v1/openapi.json`));
    expect(JSON.stringify(openapi)).toContain("mcp_url");
  });
});
