import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  client03,
  client10,
  collect,
  fetchWithKey,
  finalState,
  sendRequest,
  streamedAnswer,
  TaskState,
  taskAnswer,
} from "./support/a2a-clients.js";
import { eventually } from "./support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "./support/http.js";
import { serveWithAgents } from "./support/serve-with-agents.js";
import { runSwitchboard, type SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * The "done when" for A2A, end to end: `switchboard serve` on its embedded defaults,
 * the official @a2a-js/sdk clients (protocol 1.0, and 0.3 through the SDK's 0.3 transport)
 * discovering agents by their cards and talking to them, and the runs showing up as the
 * person's, surface `a2a`, through the REST API.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-a2a-"));
const ADA = "ada@example.com";
const BOB = "bob@example.com";
const ROOT = "root@example.com";
let serve: SwitchboardProcess;
let base: string;
let env: Record<string, string>;
const keys = new Map<string, string>();
const key = (person: string) => keys.get(person) ?? "";
const cardUrl = (agent: string) => `${base}/a2a/${agent}/.well-known/agent-card.json`;

async function api(person: string, method: string, path: string): Promise<JsonBody> {
  const response = await apiRequest(base, key(person), method, path);
  expect(response.status, path).toBe(200);
  return readJson(response);
}

function manifest(name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title: `The ${name} agent`, owner: "team:platform", tags: ["a2a"] },
    spec: { access: { view: ["user:*"], run: ["user:*"] }, ...spec },
  };
}

beforeAll(async () => {
  env = {
    SWITCHBOARD_DATA_DIR: join(root, "data"),
    LOG_LEVEL: "warn",
    // A platform admin, to read the audit log.
    SWITCHBOARD_ADMINS: ROOT,
  };
  const agents = join(root, "agents");
  mkdirSync(agents);
  const write = (name: string, spec: Record<string, unknown>) =>
    writeFileSync(join(agents, `${name}.yaml`), stringify(manifest(name, spec)));
  write("echo", {
    runtime: { type: "demo", delay_ms: 5 },
    skills: [{ name: "Echo back", description: "Repeats you.", examples: ["Hello there"] }],
  });
  // Slow enough to be cancelled mid-answer: ~14 words, 300 ms apart.
  write("slow", { runtime: { type: "demo", delay_ms: 300 } });
  write("ada-only", {
    runtime: { type: "demo", delay_ms: 5 },
    access: { view: [`user:${ADA}`], run: [`user:${ADA}`] },
  });
  write("look-only", {
    runtime: { type: "demo", delay_ms: 5 },
    access: { view: ["user:*"], run: [`user:${ADA}`] },
  });
  write("held", { runtime: { type: "demo", delay_ms: 5 } });
  write("capped", { runtime: { type: "demo", delay_ms: 5 } });
  const served = await serveWithAgents(agents, env, [ADA, BOB, ROOT]);
  ({ serve, base } = served);
  for (const [person, value] of served.keys) keys.set(person, value);
  // Budgets, set the way an operator does beside a running serve: one held for an approver,
  // one refused outright (a run is assumed to cost 0.50 USD until it has run).
  for (const [agent, mode] of [
    ["held", "approval"],
    ["capped", "hard"],
  ]) {
    const set = await runSwitchboard(
      ["budgets", "set", `agent:${agent}`, "--period", "month", "--amount", "0.01", "--mode", mode],
      env,
    );
    expect(set.code, set.stderr + set.stdout).toBe(0);
  }
}, 200_000);

afterAll(async () => {
  serve?.signal("SIGTERM");
  await serve?.exited;
  rmSync(root, { recursive: true, force: true });
});

describe("the A2A server", { timeout: 120_000 }, () => {
  it("is discovered from the API, by its card, and holds a two-turn streamed conversation in one context (protocol 1.0)", async () => {
    const listed = await api(ADA, "GET", "/agents?q=echo");
    const item = listed.items.find((agent: JsonBody) => agent.name === "echo");
    expect(item.a2a_card_url).toBe(cardUrl("echo"));
    expect((await api(ADA, "GET", "/agents/echo")).a2a_card_url).toBe(cardUrl("echo"));

    const client = await client10(item.a2a_card_url, key(ADA));
    const card = await client.getAgentCard();
    expect(card).toMatchObject({
      name: "The echo agent",
      capabilities: { streaming: true },
      supportedInterfaces: [
        { url: `${base}/a2a/echo`, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
        { url: `${base}/a2a/echo`, protocolBinding: "JSONRPC", protocolVersion: "0.3" },
      ],
    });
    expect(card.skills).toMatchObject([
      { id: "echo-back", name: "Echo back", examples: ["Hello there"] },
    ]);
    expect(card.securitySchemes.switchboardApiKey?.scheme).toMatchObject({
      $case: "httpAuthSecurityScheme",
      value: { scheme: "Bearer" },
    });

    const first = await collect(
      client.sendMessageStream(sendRequest("What is our refund policy?")),
    );
    expect(first[0]?.payload?.$case).toBe("task");
    const contextId =
      first[0]?.payload?.$case === "task" ? first[0].payload.value.contextId : undefined;
    expect(contextId).toBeTruthy();
    // Streamed: the answer came in pieces, then the task completed.
    expect(first.filter((u) => u.payload?.$case === "artifactUpdate").length).toBeGreaterThan(3);
    expect(finalState(first)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(streamedAnswer(first)).toMatch(/What is our refund policy\?.*turn 1\b/);

    const second = await collect(
      client.sendMessageStream(sendRequest("And for digital goods?", contextId)),
    );
    expect(finalState(second)).toBe(TaskState.TASK_STATE_COMPLETED);
    // The same session: the agent remembers this is the second turn.
    expect(streamedAnswer(second)).toMatch(/And for digital goods\?.*turn 2\b/);
    const taskId = second[0]?.payload?.$case === "task" ? second[0].payload.value.id : "";

    const task = await client.getTask({ tenant: "", id: taskId });
    expect(task).toMatchObject({ id: taskId, contextId });
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(taskAnswer(task)).toContain("turn 2");

    // The person's session, on the `a2a` surface, with both turns and their runs' cost.
    const session = await api(ADA, "GET", `/sessions/${contextId}`);
    expect(session).toMatchObject({ surface: "a2a", agent: "echo", status: "active" });
    expect(session.transcript).toHaveLength(4);
    expect(session.runs).toHaveLength(2);
    for (const run of session.runs) {
      expect(run).toMatchObject({ surface: "a2a", status: "succeeded" });
      expect(typeof run.cost_usd).toBe("number");
    }
    const sessions = await api(ADA, "GET", "/sessions?agent=echo");
    expect(sessions.items.map((s: JsonBody) => [s.id, s.surface])).toContainEqual([
      contextId,
      "a2a",
    ]);
  });

  it("answers a blocking SendMessage with the finished task, and continues its context", async () => {
    const client = await client10(cardUrl("echo"), key(ADA));
    const first = await client.sendMessage(sendRequest("Blocking hello"));
    if (!("status" in first)) throw new Error("expected a task");
    expect(first.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(taskAnswer(first)).toMatch(/Blocking hello.*turn 1\b/);
    expect(first.metadata?.switchboard).toMatchObject({
      run_id: first.id,
      session_id: first.contextId,
      surface: "a2a",
    });
    const second = await client.sendMessage(sendRequest("Again", first.contextId));
    if (!("status" in second)) throw new Error("expected a task");
    expect(second.contextId).toBe(first.contextId);
    expect(taskAnswer(second)).toContain("turn 2");
  });

  it("speaks protocol 0.3 on the same URL: the 0.3 card, message/send, message/stream, tasks/get", async () => {
    const { client, raw } = await client03(cardUrl("echo"), key(ADA));
    expect(raw).toMatchObject({
      protocolVersion: "0.3",
      url: `${base}/a2a/echo`,
      preferredTransport: "JSONRPC",
      capabilities: { streaming: true },
      securitySchemes: { switchboardApiKey: { type: "http", scheme: "Bearer" } },
      security: [{ switchboardApiKey: [] }],
    });
    expect(client.protocolVersion).toBe("0.3");

    const first = await client.sendMessage(sendRequest("Hello from 0.3"));
    if (!("status" in first)) throw new Error("expected a task");
    expect(first.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(taskAnswer(first)).toMatch(/Hello from 0\.3.*turn 1\b/);

    const streamed = await collect(
      client.sendMessageStream(sendRequest("Streamed in 0.3", first.contextId)),
    );
    expect(finalState(streamed)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(streamedAnswer(streamed)).toMatch(/Streamed in 0\.3.*turn 2\b/);

    const task = await client.getTask({ tenant: "", id: first.id });
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const session = await api(ADA, "GET", `/sessions/${first.contextId}`);
    expect(session).toMatchObject({ surface: "a2a" });
    expect(session.runs).toHaveLength(2);
  });

  it.each(["1.0", "0.3"])(
    "cancels a running task (protocol %s): the run stops and the stream ends canceled",
    async (version) => {
      const client =
        version === "1.0"
          ? await client10(cardUrl("slow"), key(ADA))
          : (await client03(cardUrl("slow"), key(ADA))).client;
      const updates: Awaited<ReturnType<typeof collect>> = [];
      let taskId = "";
      let cancelled: Promise<unknown> | undefined;
      for await (const update of client.sendMessageStream(sendRequest("Take your time"))) {
        updates.push(update);
        if (update.payload?.$case === "task") taskId = update.payload.value.id;
        if (update.payload?.$case === "artifactUpdate" && !cancelled) {
          cancelled = client.cancelTask({ tenant: "", id: taskId, metadata: undefined });
        }
      }
      const task = (await cancelled) as Awaited<ReturnType<typeof client.getTask>>;
      expect(task.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
      expect(finalState(updates)).toBe(TaskState.TASK_STATE_CANCELED);
      // Stopped mid-answer: the whole answer never came.
      expect(streamedAnswer(updates)).not.toContain("turn 1 of our conversation.");
      const run = await api(ADA, "GET", `/runs/${taskId}`);
      expect(run).toMatchObject({ status: "cancelled", surface: "a2a" });
      // A second cancel: the task has ended, in words.
      await expect(
        client.cancelTask({ tenant: "", id: taskId, metadata: undefined }),
      ).rejects.toThrow(/already been cancelled/);
    },
  );

  it("refuses a caller without access: no card (as for a missing agent), no message", async () => {
    const bob = fetchWithKey(key(BOB));
    const hidden = await bob(cardUrl("ada-only"));
    const missing = await bob(cardUrl("no-such-agent"));
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect((await readJson(hidden)).error.code).toBe((await readJson(missing)).error.code);
    await expect(client10(cardUrl("ada-only"), key(BOB))).rejects.toThrow(/404/);

    // Straight at the JSON-RPC URL: the same "not found", as a JSON-RPC error object.
    const sent = await bob(`${base}/a2a/ada-only`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "SendMessage",
        params: { message: { messageId: "m1", role: "ROLE_USER", parts: [{ text: "hi" }] } },
      }),
    });
    expect(sent.status).toBe(404);
    expect(await readJson(sent)).toMatchObject({
      jsonrpc: "2.0",
      id: 7,
      error: { message: 'The agent "ada-only" was not found.' },
    });

    // An agent Bob may view but not run: its card, and a refusal in words.
    const client = await client10(cardUrl("look-only"), key(BOB));
    await expect(client.sendMessage(sendRequest("Let me in"))).rejects.toMatchObject({
      envelopeCode: -32000,
      message: expect.stringMatching(/look-only/),
    });
    const stream = client.sendMessageStream(sendRequest("Let me in"));
    await expect(collect(stream)).rejects.toMatchObject({ envelopeCode: -32000 });
    expect((await api(BOB, "GET", "/sessions?agent=look-only")).items).toEqual([]);
  });

  it("refuses a bad key with 401 and WWW-Authenticate, on the card and on JSON-RPC", async () => {
    const bad = fetchWithKey("sb_live_not-a-real-key");
    const card = await bad(cardUrl("echo"));
    expect(card.status).toBe(401);
    expect(card.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const none = await fetch(cardUrl("echo"));
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);

    const rpc = await bad(`${base}/a2a/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: "x", method: "tasks/get", params: { id: "t" } }),
    });
    expect(rpc.status).toBe(401);
    expect(rpc.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const body = await readJson(rpc);
    // The body of a caller who is not known is not read: the id is null, as JSON-RPC says.
    expect(body).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32000 } });
    expect(body.error.message).toMatch(/API key/);
    await expect(client10(cardUrl("echo"), "sb_live_not-a-real-key")).rejects.toThrow(/401/);
  });

  it("refuses someone else's context and task, and leaves them as they were", async () => {
    const ada = await client10(cardUrl("echo"), key(ADA));
    const mine = await ada.sendMessage(sendRequest("Only for Ada"));
    if (!("status" in mine)) throw new Error("expected a task");

    const bob = await client10(cardUrl("echo"), key(BOB));
    await expect(bob.sendMessage(sendRequest("Let me read", mine.contextId))).rejects.toMatchObject(
      {
        envelopeCode: -32000,
        message: expect.stringMatching(/not one of your conversations/),
      },
    );
    await expect(bob.getTask({ tenant: "", id: mine.id })).rejects.toMatchObject({
      envelopeCode: -32001,
    });
    await expect(
      bob.cancelTask({ tenant: "", id: mine.id, metadata: undefined }),
    ).rejects.toMatchObject({ envelopeCode: -32001 });
    // A context that never existed is refused the same way.
    await expect(
      bob.sendMessage(sendRequest("Hello", "2b0c6f3e-0000-4000-8000-000000000000")),
    ).rejects.toMatchObject({ envelopeCode: -32000 });

    const session = await api(ADA, "GET", `/sessions/${mine.contextId}`);
    expect(session.transcript).toHaveLength(2);
    expect(session.runs).toHaveLength(1);
  });

  it("holds a run for an approver (auth-required, in words) and refuses one over a hard budget", async () => {
    const held = await client10(cardUrl("held"), key(ADA));
    const task = await held.sendMessage(sendRequest("Spend a little"));
    if (!("status" in task)) throw new Error("expected a task");
    expect(task.status?.state).toBe(TaskState.TASK_STATE_AUTH_REQUIRED);
    const words = task.status?.message?.parts[0]?.content;
    expect(words?.$case === "text" ? words.value : "").toMatch(/approver/);
    const run = await api(ADA, "GET", `/runs/${task.id}`);
    expect(run).toMatchObject({ status: "needs_approval", surface: "a2a" });
    // The audit log says which surface the held run came from.
    const audit = await apiRequest(base, key(ROOT), "GET", "/audit?action=approval.requested");
    expect(audit.status).toBe(200);
    const entries = (await audit.text())
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as JsonBody);
    expect(entries.find((entry) => entry.details?.run_id === task.id)).toMatchObject({
      actor: `user:${ADA}`,
      details: { surface: "a2a" },
    });
    const streamed = await collect(held.sendMessageStream(sendRequest("And again")));
    expect(finalState(streamed)).toBe(TaskState.TASK_STATE_AUTH_REQUIRED);

    const capped = await client10(cardUrl("capped"), key(ADA));
    await expect(capped.sendMessage(sendRequest("Spend a lot"))).rejects.toMatchObject({
      envelopeCode: -32000,
      message: expect.stringMatching(/budget/i),
    });
    await eventually(async () => {
      expect((await api(ADA, "GET", "/sessions?agent=capped")).items).toEqual([]);
    });
  });
});
