import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ContractAgent } from "./contract-agent.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for Cursor's Cloud Agents API v1, shaped from Cursor's reference:
 * https://cursor.com/docs/cloud-agent/api/endpoints (Create An Agent, Create A Run,
 * Get A Run, Stream A Run, Cancel A Run, Get Agent Usage, Archive An Agent) and
 * https://cursor.com/docs/api (Basic authentication: the key as user name, empty password;
 * Bearer is accepted too, as the endpoints page says).
 *
 * - `POST /v1/agents` answers `{ agent, run }` (ids `bc-…` and `run-…`, run `CREATING`);
 * - `POST /v1/agents/{id}/runs` answers `{ run }`, or `409 agent_busy` while a run is
 *   `CREATING` or `RUNNING`, `404` for an agent it does not know;
 * - `GET …/runs/{runId}/stream` is SSE: a leading `status` event without an id, then
 *   `assistant` deltas, `tool_call`, `result` `{ runId, status, text, durationMs, git }` and
 *   `done`, each with an opaque `id`; events already sent are replayed to a new stream;
 * - `POST …/runs/{runId}/cancel` answers `{ id }`, or `409 run_not_cancellable`;
 * - `GET /v1/agents/{id}/usage?runId=` answers `{ totalUsage, runs: [{ id, usage }] }`.
 * Error bodies are `{ error: { code, message } }`: the reference names the codes
 * (`agent_busy`, `run_not_cancellable`, `stream_expired`) but shows no error body, so the
 * adapter reads `code` there or at the top level. Any other route, a body field the API
 * does not take, or a request without the account's key is recorded as unexpected.
 *
 * It hosts the contract agent: each run answers `You said "<prompt>" (turn <N>)`, N
 * counting the runs of the agent, in two `assistant` deltas.
 */

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are plain JSON.
type Json = any;

/** What a run does instead of answering plainly (for the adapter's own tests). */
export type RunScript =
  | { kind: "tool"; name: string; args: Json }
  /** The run ends in ERROR with this text. */
  | { kind: "error"; text: string }
  /** The stream closes after the first delta, without a result; the run finishes anyway. */
  | { kind: "drop" };

interface StreamEvent {
  id?: string;
  event: string;
  data: Json;
}

interface Run {
  id: string;
  agentId: string;
  status: "CREATING" | "RUNNING" | "FINISHED" | "ERROR" | "CANCELLED" | "EXPIRED";
  prompt: string;
  result?: string;
  createdAt: string;
  updatedAt: string;
  durationMs?: number;
  events: StreamEvent[];
  streams: Set<ServerResponse>;
  usage: { inputTokens: number; outputTokens: number };
  cancel: () => void;
}

interface CursorAgent {
  id: string;
  name: string;
  archived: boolean;
  body: Json;
  runs: Run[];
  branch?: { repoUrl: string; branch: string; prUrl?: string };
}

const CREATE_FIELDS = new Set([
  "prompt",
  "model",
  "name",
  "env",
  "repos",
  "workOnCurrentBranch",
  "autoCreatePR",
  "skipReviewerRequest",
  "envVars",
  "mcpServers",
  "customSubagents",
  "mode",
  "agentId",
]);
const RUN_FIELDS = new Set(["prompt", "mcpServers", "mode"]);

export class CursorAgentsWireDouble extends ContractAgent {
  readonly url: string;
  /** Every request as `METHOD /path?query`, in arrival order. */
  readonly requests: string[] = [];
  /** The bodies of `POST /v1/agents`, in order. */
  readonly created: Json[] = [];
  private readonly agents = new Map<string, CursorAgent>();
  private readonly scripts: RunScript[] = [];
  private busyAnswers = 0;
  private readonly refusals: Array<{ status: number; code: string; message: string }> = [];
  private streamGone = false;
  private eventCounter = 0;

  private constructor(
    private readonly server: LoopbackServer,
    private readonly apiKey: string,
  ) {
    super();
    this.url = server.url;
  }

  static async start(options: { apiKey: string }): Promise<CursorAgentsWireDouble> {
    const server = await startLoopbackServer((req, res) => {
      double.handle(req, res).catch((error: unknown) => {
        double.unexpectedRequests.push(`double failed on ${req.method} ${req.url}: ${error}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    const double = new CursorAgentsWireDouble(server, options.apiKey);
    return double;
  }

  // --- AgentDouble ------------------------------------------------------------------------

  override forgetSessions(): void {
    super.forgetSessions();
    for (const agent of this.agents.values()) {
      for (const run of agent.runs) for (const res of run.streams) res.end();
    }
    this.agents.clear();
  }

  override reset(): void {
    super.reset();
    this.requests.length = 0;
    this.created.length = 0;
    this.scripts.length = 0;
    this.busyAnswers = 0;
    this.refusals.length = 0;
    this.streamGone = false;
  }

  // --- Controls for the adapter's own tests -----------------------------------------------

  scriptNextRuns(...scripts: RunScript[]): void {
    this.scripts.push(...scripts);
  }

  /** The next `count` follow-ups are answered `409 agent_busy`, as while a run is active. */
  busyNext(count: number): void {
    this.busyAnswers = count;
  }

  /** The next request (with the right key) is answered with this error instead. */
  refuseNext(status: number, code: string, message: string): void {
    this.refusals.push({ status, code, message });
  }

  /** From now on the stream endpoint answers `410 stream_expired` (retention elapsed). */
  expireStreams(): void {
    this.streamGone = true;
  }

  /** The agent as the double keeps it: archived, and its runs' statuses. */
  agent(id: string): { archived: boolean; runs: string[] } | undefined {
    const agent = this.agents.get(id);
    return agent && { archived: agent.archived, runs: agent.runs.map((run) => run.status) };
  }

  async close(): Promise<void> {
    this.releaseTurns();
    await this.server.close();
  }

  // --- HTTP -------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? "/", this.url);
    const route = `${req.method} ${url.pathname}`;
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);

    const auth = req.headers.authorization ?? "";
    const basic = auth.match(/^Basic\s+(.+)$/i);
    const presented = basic
      ? Buffer.from(basic[1] as string, "base64").toString("utf8")
      : auth.replace(/^Bearer\s+/i, "");
    if (presented !== `${this.apiKey}:` && presented !== this.apiKey) {
      return error(res, 401, "unauthorized", "Invalid API key");
    }
    const refusal = this.refusals.shift();
    if (refusal) return error(res, refusal.status, refusal.code, refusal.message);
    let body: Json;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      this.unexpectedRequests.push(`${route} with a body that is not JSON`);
      return error(res, 400, "validation_error", "The body is not JSON.");
    }

    if (route === "POST /v1/agents") return this.createAgent(res, body);
    const match = url.pathname.match(/^\/v1\/agents\/([^/]+)(\/.*)?$/);
    if (!match) {
      this.unexpectedRequests.push(route);
      return error(res, 404, "not_found", `No route ${route}.`);
    }
    const [, agentId, rest = ""] = match;
    const action = `${req.method} ${rest.replace(/\/runs\/[^/]+/, "/runs/{runId}")}`;
    const known = [
      "GET ",
      "POST /runs",
      "GET /runs/{runId}",
      "GET /runs/{runId}/stream",
      "POST /runs/{runId}/cancel",
      "GET /usage",
      "POST /archive",
    ];
    if (!known.includes(action)) {
      this.unexpectedRequests.push(route);
      return error(res, 404, "not_found", `No route ${route}.`);
    }
    const agent = this.agents.get(agentId as string);
    if (!agent) return error(res, 404, "agent_not_found", `Agent ${agentId} not found.`);
    if (action === "GET ") return json(res, 200, agentObject(agent));
    if (action === "POST /archive") {
      agent.archived = true;
      return json(res, 200, { id: agent.id });
    }
    if (action === "POST /runs") return this.createRun(res, agent, body);
    if (action === "GET /usage") return this.usage(res, agent, url.searchParams.get("runId"));
    const runId = decodeURIComponent(rest.split("/")[2] ?? "");
    const run = agent.runs.find((candidate) => candidate.id === runId);
    if (!run) return error(res, 404, "run_not_found", `Run ${runId} not found.`);
    if (action === "GET /runs/{runId}") return json(res, 200, runObject(agent, run));
    if (action === "GET /runs/{runId}/stream") return this.openStream(req, res, run);
    return this.cancelRun(res, run);
  }

  private createAgent(res: ServerResponse, body: Json) {
    const extra = Object.keys(body ?? {}).filter((key) => !CREATE_FIELDS.has(key));
    const repo = body?.repos?.[0];
    if (
      typeof body?.prompt?.text !== "string" ||
      extra.length > 0 ||
      (body.repos !== undefined && typeof repo?.url !== "string") ||
      (body.model !== undefined && typeof body.model?.id !== "string")
    ) {
      this.unexpectedRequests.push(`POST /v1/agents with ${JSON.stringify(body)}`);
      return error(res, 400, "validation_error", "The request body is not valid.");
    }
    if (this.failsThisTurn()) return error(res, 503, "unavailable", "Service unavailable");
    this.created.push(body);
    const id = `bc-${randomUUID()}`;
    const agent: CursorAgent = {
      id,
      name: body.name ?? "Agent",
      archived: false,
      body,
      runs: [],
    };
    if (repo) {
      const suffix = id.slice(-4);
      agent.branch = {
        repoUrl: String(repo.url).replace(/^https:\/\//, ""),
        branch: body.workOnCurrentBranch
          ? (repo.startingRef ?? "main")
          : `cursor/contract-${suffix}`,
        ...(body.autoCreatePR ? { prUrl: `${repo.url}/pull/${parseInt(suffix, 16) % 1000}` } : {}),
      };
    }
    this.agents.set(id, agent);
    const run = this.startRun(agent, body.prompt.text);
    json(res, 201, { agent: agentObject(agent), run: runObject(agent, run) });
  }

  private createRun(res: ServerResponse, agent: CursorAgent, body: Json) {
    const extra = Object.keys(body ?? {}).filter((key) => !RUN_FIELDS.has(key));
    if (typeof body?.prompt?.text !== "string" || extra.length > 0) {
      this.unexpectedRequests.push(`POST /v1/agents/{id}/runs with ${JSON.stringify(body)}`);
      return error(res, 400, "validation_error", "The request body is not valid.");
    }
    if (agent.archived) return error(res, 409, "agent_archived", "The agent is archived.");
    const active = agent.runs.some((run) => run.status === "CREATING" || run.status === "RUNNING");
    if (active || this.busyAnswers > 0) {
      if (!active) this.busyAnswers -= 1;
      return error(res, 409, "agent_busy", "Another run is active on this agent.");
    }
    if (this.failsThisTurn()) return error(res, 503, "unavailable", "Service unavailable");
    const run = this.startRun(agent, body.prompt.text);
    json(res, 201, { run: runObject(agent, run) });
  }

  private startRun(agent: CursorAgent, prompt: string): Run {
    const now = new Date().toISOString();
    const run: Run = {
      id: `run-${randomUUID()}`,
      agentId: agent.id,
      status: "CREATING",
      prompt,
      createdAt: now,
      updatedAt: now,
      events: [],
      streams: new Set(),
      usage: { inputTokens: 0, outputTokens: 0 },
      cancel: () => {},
    };
    agent.runs.push(run);
    void this.play(agent, run);
    return run;
  }

  /** Plays one run the way the stream narrates it. */
  private async play(agent: CursorAgent, run: Run): Promise<void> {
    const started = Date.now();
    const { answer } = this.answerTurn(agent.id, run.prompt);
    const script = this.scripts.shift();
    await new Promise((resolve) => setImmediate(resolve));
    if (run.status !== "CREATING") return;
    this.setStatus(run, "RUNNING");
    const released = await this.whileHeld(
      () =>
        new Promise<void>((resolve) => {
          run.cancel = resolve;
        }),
    );
    // A cancel ends the run itself (cancelRun); here the run only stops playing.
    if (!released || (run.status as Run["status"]) !== "RUNNING") return;
    if (script?.kind === "tool") {
      const call = { callId: "call-1", name: script.name, args: script.args };
      this.emit(run, "tool_call", { ...call, status: "running" });
      this.emit(run, "tool_call", { ...call, status: "completed", result: { success: {} } });
    }
    const cut = Math.ceil(answer.length / 2);
    this.emit(run, "assistant", { text: answer.slice(0, cut) });
    if (script?.kind === "drop") {
      // Drops a stream the adapter reads, so it has to be open first.
      for (let waited = 0; run.streams.size === 0 && waited < 5_000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      for (const res of run.streams) res.destroy();
      run.streams.clear();
      run.events.push({ id: this.nextId(), event: "assistant", data: { text: answer.slice(cut) } });
      this.end(agent, run, "FINISHED", started, answer, true);
      return;
    }
    this.emit(run, "assistant", { text: answer.slice(cut) });
    run.usage = {
      inputTokens: run.prompt.split(/\s+/).filter(Boolean).length + 40,
      outputTokens: answer.split(/\s+/).length,
    };
    if (script?.kind === "error") {
      this.end(agent, run, "ERROR", started, script.text);
      return;
    }
    this.end(agent, run, "FINISHED", started, answer);
  }

  private end(
    agent: CursorAgent,
    run: Run,
    status: Run["status"],
    started: number,
    text?: string,
    quietly = false,
  ): void {
    run.status = status;
    run.updatedAt = new Date().toISOString();
    run.durationMs = Date.now() - started;
    if (text !== undefined) run.result = text;
    const result = {
      runId: run.id,
      status,
      ...(text === undefined ? {} : { text }),
      durationMs: run.durationMs,
      ...gitOf(agent),
    };
    if (quietly) {
      run.events.push({ id: this.nextId(), event: "result", data: result });
      run.events.push({ id: this.nextId(), event: "done", data: {} });
      return;
    }
    this.emit(run, "result", result);
    this.emit(run, "done", {});
    for (const res of run.streams) res.end();
    run.streams.clear();
  }

  private setStatus(run: Run, status: Run["status"]): void {
    run.status = status;
    run.updatedAt = new Date().toISOString();
    for (const res of run.streams) write(res, { event: "status", data: { runId: run.id, status } });
  }

  private emit(run: Run, event: string, data: Json): void {
    const entry = { id: this.nextId(), event, data };
    run.events.push(entry);
    for (const res of run.streams) write(res, entry);
  }

  private openStream(req: IncomingMessage, res: ServerResponse, run: Run) {
    if (req.headers.accept !== "text/event-stream") {
      this.unexpectedRequests.push("GET …/stream without Accept: text/event-stream");
    }
    if (this.streamGone) return error(res, 410, "stream_expired", "The stream has expired.");
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-cursor-stream-retention-seconds": "3600",
    });
    // The sticky framing event, without an id, then what the run already said.
    write(res, { event: "status", data: { runId: run.id, status: run.status } });
    for (const event of run.events) write(res, event);
    if (run.events.some((event) => event.event === "done")) {
      res.end();
      return;
    }
    run.streams.add(res);
    res.on("close", () => run.streams.delete(res));
  }

  private cancelRun(res: ServerResponse, run: Run) {
    if (run.status !== "CREATING" && run.status !== "RUNNING") {
      return error(res, 409, "run_not_cancellable", "The run is not active.");
    }
    this.countCancellation();
    const agent = this.agents.get(run.agentId) as CursorAgent;
    this.end(agent, run, "CANCELLED", Date.parse(run.createdAt));
    run.cancel();
    json(res, 200, { id: run.id });
  }

  private usage(res: ServerResponse, agent: CursorAgent, runId: string | null) {
    const runs = agent.runs.filter((run) => runId === null || run.id === runId);
    if (runId !== null && runs.length === 0) {
      return error(res, 404, "run_not_found", `Run ${runId} not found.`);
    }
    const usageOf = (run: Run) => ({
      inputTokens: run.usage.inputTokens,
      outputTokens: run.usage.outputTokens,
      cacheWriteTokens: 0,
      cacheReadTokens: 0,
      totalTokens: run.usage.inputTokens + run.usage.outputTokens,
    });
    const total = runs.map(usageOf).reduce(
      (sum, usage) => ({
        inputTokens: sum.inputTokens + usage.inputTokens,
        outputTokens: sum.outputTokens + usage.outputTokens,
        cacheWriteTokens: 0,
        cacheReadTokens: 0,
        totalTokens: sum.totalTokens + usage.totalTokens,
      }),
      { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, totalTokens: 0 },
    );
    json(res, 200, {
      totalUsage: total,
      runs: runs.map((run) => ({ id: run.id, usageUuid: randomUUID(), usage: usageOf(run) })),
    });
  }

  private nextId(): string {
    this.eventCounter += 1;
    return `${1713033000000 + this.eventCounter}-0`;
  }
}

function gitOf(agent: CursorAgent): Json {
  return agent.branch ? { git: { branches: [agent.branch] } } : {};
}

function agentObject(agent: CursorAgent): Json {
  return {
    id: agent.id,
    name: agent.name,
    status: agent.archived
      ? "ARCHIVED"
      : agent.runs.some((run) => run.status === "CREATING" || run.status === "RUNNING")
        ? "ACTIVE"
        : "IDLE",
    env: { type: "cloud" },
    repos: agent.body.repos ?? [],
    workOnCurrentBranch: agent.body.workOnCurrentBranch ?? false,
    autoCreatePR: agent.body.autoCreatePR ?? false,
    url: `https://cursor.com/agents/${agent.id}`,
    createdAt: agent.runs[0]?.createdAt,
    updatedAt: agent.runs.at(-1)?.updatedAt,
    latestRunId: agent.runs.at(-1)?.id,
  };
}

function runObject(agent: CursorAgent, run: Run): Json {
  const terminal = !["CREATING", "RUNNING"].includes(run.status);
  return {
    id: run.id,
    agentId: run.agentId,
    status: run.status,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    ...(terminal ? { durationMs: run.durationMs, result: run.result } : {}),
    ...gitOf(agent),
  };
}

function write(res: ServerResponse, event: StreamEvent): void {
  if (res.destroyed) return;
  const id = event.id ? `id: ${event.id}\n` : "";
  res.write(`${id}event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`);
}

function json(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}
