import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import { type JsonBody, readJson } from "./support/http.js";
import { mcpClient, textOf } from "./support/mcp-client.js";
import { freePort } from "./support/ports.js";
import { RunsDeployment } from "./support/runs-deployment.js";
import { SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * The MCP server behind a load balancer: two `switchboard serve` processes on one
 * PostgreSQL, a worker taking runs through Redis, and a client whose requests land on
 * either process. Nothing of an MCP conversation is kept in a process between requests.
 */

const ADA = "ada@example.com";
const agent = (name: string, delayMs: number) => `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ${name}
  title: ${name}
  description: A demo agent.
  owner: team:tools
spec:
  runtime: { type: demo, delay_ms: ${delayMs} }
  access:
    view: ["user:${ADA}"]
    run: ["user:${ADA}"]
`;

let deployment: RunsDeployment;
let second: SwitchboardProcess;
let bases: string[];
const clients: Client[] = [];

describe("the MCP server behind several serve processes", { timeout: 240_000 }, () => {
  beforeAll(async () => {
    deployment = await RunsDeployment.start({
      agents: [agent("quick", 5), agent("slow", 500)].join("---\n"),
      people: [ADA],
      workers: 1,
    });
    const port = await freePort();
    second = new SwitchboardProcess(["serve"], { ...deployment.env, PORT: String(port) });
    await second.waitFor(`http://127.0.0.1:${port}/readyz`, 120_000);
    bases = [deployment.base, `http://127.0.0.1:${port}`];
  }, 240_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await second?.kill();
    await deployment?.close();
  });

  it("lists tools and holds a two-turn conversation with requests alternating between processes", async () => {
    const client = await mcpClient(bases, deployment.keyOf(ADA));
    clients.push(client);
    const names = new Set<string>();
    for (let i = 0; i < 3; i++) {
      for (const tool of (await client.listTools()).tools) names.add(tool.name);
    }
    expect([...names].sort()).toEqual(["quick", "slow"]);
    const first = await client.callTool({ name: "quick", arguments: { request: "one" } });
    const sessionId = (first.structuredContent as JsonBody).session_id as string;
    const second = await client.callTool({
      name: "quick",
      arguments: { request: "two", session_id: sessionId },
    });
    expect(textOf(first)).toContain("This is turn 1");
    expect(textOf(second)).toContain("This is turn 2");
    const session = await readJson(await deployment.request(ADA, "GET", `/sessions/${sessionId}`));
    expect(session.runs.map((run: JsonBody) => run.surface)).toEqual(["mcp", "mcp"]);
  });

  it("cancels a call whose notifications/cancelled reaches the other process", async () => {
    // The call goes to the first process; its cancellation, to the second.
    const routed: FetchLike = async (url, init) => {
      const body = typeof init?.body === "string" ? init.body : "";
      const target = new URL(String(url));
      target.host = new URL(
        body.includes("notifications/cancelled") ? (bases[1] as string) : (bases[0] as string),
      ).host;
      return fetch(target, init);
    };
    const client = new Client({ name: "routed", version: "1.0.0" });
    clients.push(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${bases[0]}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${deployment.keyOf(ADA)}` } },
        fetch: routed,
      }),
    );
    const abort = new AbortController();
    const call = client.callTool({ name: "slow", arguments: { request: "stop me" } }, undefined, {
      signal: abort.signal,
      onprogress: (update) => {
        if (update.message === "running") abort.abort("no longer needed");
      },
    });
    await expect(call).rejects.toThrow();
    await eventually(async () => {
      const sessions = await readJson(await deployment.request(ADA, "GET", "/sessions?agent=slow"));
      const session = await readJson(
        await deployment.request(ADA, "GET", `/sessions/${sessions.items[0].id}`),
      );
      expect(session.runs[0].input).toBe("stop me");
      expect(session.runs[0].status).toBe("cancelled");
    }, 30_000);
  });
});
