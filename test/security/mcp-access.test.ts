import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "../support/http.js";
import { allToolNames, mcpClient, textOf } from "../support/mcp-client.js";
import { serveWithAgents } from "../support/serve-with-agents.js";
import type { SwitchboardProcess } from "../support/switchboard-process.js";

/**
 * An ordinary person with an API key at /mcp, after what is not theirs: the names of agents
 * they may not see (in tools/list, through a forged cursor, in a call's error), another
 * person's conversation by its session id, cancelling another person's call by its JSON-RPC
 * id; and the key itself, which no answer, error or log line may carry.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-mcp-security-"));
const ADA = "ada@example.com";
const MALLORY = "mallory@example.com";

const agent = (name: string, who: string, delayMs = 5) => `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ${name}
  title: ${name}
  description: Only for ${who}.
  owner: team:tools
spec:
  runtime: { type: demo, delay_ms: ${delayMs} }
  access:
    view: ["user:${who}"]
    run: ["user:${who}"]
`;

let serve: SwitchboardProcess;
let base: string;
let keys: Map<string, string>;
const clients: Client[] = [];

async function connect(person: string): Promise<Client> {
  const client = await mcpClient(base, keys.get(person) as string);
  clients.push(client);
  return client;
}

/** One raw JSON-RPC POST to /mcp, its SSE or JSON answer as text. */
async function post(key: string, message: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-06-18",
    },
    body: JSON.stringify(message),
  });
  return { status: response.status, text: await response.text() };
}

describe("the MCP server, attacked with an ordinary account", { timeout: 180_000 }, () => {
  beforeAll(async () => {
    const file = join(root, "agents.yaml");
    writeFileSync(
      file,
      [
        agent("payroll-secrets", ADA, 400),
        agent("board-minutes", ADA),
        agent("mallorys-own", MALLORY),
      ].join("---\n"),
    );
    ({ serve, base, keys } = await serveWithAgents(
      file,
      { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "debug" },
      [ADA, MALLORY],
    ));
  }, 180_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await serve?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("never names an agent the person may not see: tools/list, a forged cursor, a call", async () => {
    const mallory = await connect(MALLORY);
    expect((await allToolNames(mallory)).sort()).toEqual(["demo", "mallorys-own"]);
    // A cursor is the last name of a page: one made up to start before a hidden name pages on
    // through what she may see only.
    const forged = Buffer.from(JSON.stringify({ after: "a" })).toString("base64url");
    const page = await mallory.listTools({ cursor: forged });
    expect(page.tools.map((tool) => tool.name).sort()).toEqual(["demo", "mallorys-own"]);
    expect(JSON.stringify(page)).not.toMatch(/payroll|board-minutes/);
    const garbage = await mallory.listTools({ cursor: "not-a-cursor" }).catch((e: Error) => e);
    expect(String(garbage)).toContain("The cursor is not one this server gave out");

    const hidden = await mallory
      .callTool({ name: "payroll-secrets", arguments: { request: "salaries?" } })
      .catch((error: Error) => error);
    const none = await mallory
      .callTool({ name: "payroll-secretz", arguments: { request: "salaries?" } })
      .catch((error: Error) => error);
    expect(String(hidden)).toBe(String(none).replace("payroll-secretz", "payroll-secrets"));
    // Nothing ran in her name against it.
    const sessions = await readJson(
      await apiRequest(base, keys.get(MALLORY) as string, "GET", "/sessions"),
    );
    expect(sessions.items).toEqual([]);
  });

  it("refuses someone else's session_id, and leaks nothing of that conversation", async () => {
    const ada = await connect(ADA);
    const first = await ada.callTool({
      name: "board-minutes",
      arguments: { request: "the merger is on" },
    });
    const sessionId = (first.structuredContent as JsonBody).session_id as string;

    const mallory = await connect(MALLORY);
    for (const tool of ["demo", "mallorys-own"]) {
      const stolen = await mallory.callTool({
        name: tool,
        arguments: { request: "what was said?", session_id: sessionId },
      });
      expect(stolen.isError).toBe(true);
      expect(textOf(stolen)).toBe(`The session ${sessionId} was not found.`);
    }
    const session = await readJson(
      await apiRequest(base, keys.get(ADA) as string, "GET", `/sessions/${sessionId}`),
    );
    expect(session.transcript.map((entry: JsonBody) => entry.content)).not.toContain(
      "what was said?",
    );
    expect(session.runs).toHaveLength(1);
  });

  it("does not let one person cancel another's call by its JSON-RPC request id", async () => {
    const ada = await connect(ADA);
    const call = ada.callTool({
      name: "payroll-secrets",
      arguments: { request: "run to the end" },
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Ada's client numbers its requests from 0; Mallory tries every small id.
    for (let id = 0; id < 10; id++) {
      const sent = await post(keys.get(MALLORY) as string, {
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: id, reason: "gotcha" },
      });
      expect(sent.status).toBe(202);
    }
    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('You said: "run to the end"');
  });

  it("never sends the key back, in answers, errors or the log", async () => {
    const key = keys.get(ADA) as string;
    const answers = [
      await post(key, { jsonrpc: "2.0", id: 1, method: "tools/list" }),
      await post(key, {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "board-minutes", arguments: { request: `echo ${key.slice(0, 4)}` } },
      }),
      await post(key, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "nope" } }),
      await post(key, { jsonrpc: "2.0", id: 4, method: "no/such/method" }),
      await post(`${key}x`, { jsonrpc: "2.0", id: 5, method: "tools/list" }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 401]);
    for (const answer of answers) expect(answer.text).not.toContain(key);
    await eventually(async () => expect(serve.stdout).toContain('"url":"/mcp"'), 5_000);
    expect(serve.stdout + serve.stderr).not.toContain(key);
  });
});
