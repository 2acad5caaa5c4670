import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ContractAgent } from "./contract-agent.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for Claude Managed Agents (`/v1/agents`, `/v1/environments`,
 * `/v1/sessions`, its events and their SSE stream), in the shapes `@anthropic-ai/sdk`
 * reads: cursor pages `{ data, next_page }`, errors `{ type: "error", error: { type,
 * message } }`, and stream frames `event: <type>` + `data: <json>` (the SDK drops frames
 * without an event name). Every request must carry the account's key, as `x-api-key` or
 * `Authorization: Bearer` (which SDK 1.x sends) (else 401, as the API does) and the `managed-agents-2026-04-01` beta header (else it is recorded
 * as unexpected); so is any route this double does not serve, such as creating an agent.
 *
 * It hosts the contract agent: each user message is answered
 *   You said "<text>" (turn <N>)
 * in at least two `event_delta` previews, then the whole `agent.message`, a
 * `span.model_request_end` with tokens, a `session.usage` snapshot with a `list_cost`, and
 * `session.status_idle`.
 *
 * Session budgets (https://platform.claude.com/docs/en/managed-agents/budgets): `budget`
 * on create (`{ type: "limit", max_list_cost: { amount: "<whole cents>", currency: "USD" } }`,
 * anything else is a 400 and unexpected), changed or removed (`null`) by `POST
 * /v1/sessions/{id}`; adding one to a session created without one is refused
 * (`budget_create_only`), as is a cap at or below the list cost spent (`budget_not_raised`).
 * Before each model request the session's list cost is checked against the cap: at it, the
 * session goes idle with stop reason `budget_reached` instead of answering.
 */

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are plain JSON.
type Json = any;

export const MANAGED_AGENTS_BETA = "managed-agents-2026-04-01";
export const DOUBLE_MODEL = "claude-sonnet-4-6";
/** What each turn costs at list price, in cents. */
export const CENTS_PER_TURN = 3;

export interface NamedResource {
  id: string;
  name: string;
  archived?: boolean;
}

/** What the agent does on a turn instead of answering plainly (for adapter tests). */
export type TurnScript =
  | { kind: "tool"; name: string; input: Json }
  | { kind: "error"; message: string }
  | { kind: "terminate"; message: string }
  /** A frame whose data is not JSON, as a broken proxy might pass on. */
  | { kind: "garbage" }
  /** The agent makes this many model requests (CENTS_PER_TURN each) before it answers. */
  | { kind: "costly"; requests: number };

interface Session {
  id: string;
  agentId: string;
  agentVersion: number;
  environmentId: string;
  turns: number;
  costCents: number;
  inputTokens: number;
  outputTokens: number;
  status: "idle" | "running" | "terminated";
  archivedAt: string | null;
  createdAt: string;
  metadata: Record<string, string>;
  /** The budget's cap in cents; undefined when the session has none (or it was removed). */
  budgetCents: number | undefined;
  /** A removed budget cannot come back; nor can one be added to a session created without. */
  budgetable: boolean;
  /** Open stream connections, and whether each asked for message previews. */
  streams: Map<ServerResponse, boolean>;
  /** Events produced while no stream was open; the next stream gets them first. */
  backlog: Json[];
}

/** A turn waiting while turns are held, which a `user.interrupt` on its session ends. */
interface HeldTurn {
  sessionId: string;
  interrupt: () => void;
}

export class ManagedAgentsWireDouble extends ContractAgent {
  readonly url: string;
  /** Every request as `METHOD /path?query`, in arrival order. */
  readonly requests: string[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly held = new Set<HeldTurn>();
  private readonly scripts: TurnScript[] = [];
  private eventCounter = 0;

  private constructor(
    private readonly server: LoopbackServer,
    private readonly options: {
      apiKey: string;
      agents: NamedResource[];
      environments: NamedResource[];
      pageSize: number;
    },
  ) {
    super();
    this.url = server.url;
  }

  static async start(
    options: {
      apiKey?: string;
      agents?: NamedResource[];
      environments?: NamedResource[];
      /** Items per listing page when the client names no limit. */
      pageSize?: number;
    } = {},
  ): Promise<ManagedAgentsWireDouble> {
    const server = await startLoopbackServer((req, res) => {
      double.handle(req, res).catch((error: unknown) => {
        double.unexpectedRequests.push(`double failed on ${req.method} ${req.url}: ${error}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    const double = new ManagedAgentsWireDouble(server, {
      apiKey: options.apiKey ?? "sk-ant-double-key",
      agents: options.agents ?? [{ id: "agent_01contract", name: "contract-agent" }],
      environments: options.environments ?? [{ id: "env_01contract", name: "contract-env" }],
      pageSize: options.pageSize ?? 20,
    });
    return double;
  }

  // --- AgentDouble (the rest is the contract agent's) ------------------------------------

  override forgetSessions(): void {
    super.forgetSessions();
    for (const session of this.sessions.values()) {
      for (const res of session.streams.keys()) res.end();
    }
    this.sessions.clear();
  }

  override reset(): void {
    super.reset();
    this.requests.length = 0;
    this.scripts.length = 0;
  }

  // --- Extra controls for the adapter's own tests ----------------------------------------

  /** The next turns follow these scripts, one each, before plain answers resume. */
  scriptNextTurns(...scripts: TurnScript[]): void {
    this.scripts.push(...scripts);
  }

  /** Sessions the double knows, with what a test may check. */
  session(
    id: string,
  ):
    | { archived: boolean; metadata: Record<string, string>; budgetCents: number | undefined }
    | undefined {
    const found = this.sessions.get(id);
    return (
      found && {
        archived: found.archivedAt !== null,
        metadata: found.metadata,
        budgetCents: found.budgetCents,
      }
    );
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

    const beta = String(req.headers["anthropic-beta"] ?? "").split(",");
    if (!beta.includes(MANAGED_AGENTS_BETA) || !req.headers["anthropic-version"]) {
      this.unexpectedRequests.push(`${route} without the ${MANAGED_AGENTS_BETA} beta header`);
      return error(
        res,
        400,
        "invalid_request_error",
        `This endpoint needs anthropic-beta: ${MANAGED_AGENTS_BETA}.`,
      );
    }
    // SDK 1.x sends the key as `Authorization: Bearer`; older clients send `x-api-key`.
    const presented =
      req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer\s+/i, "");
    if (presented !== this.options.apiKey) {
      return error(res, 401, "authentication_error", "invalid x-api-key");
    }
    let body: Json;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      this.unexpectedRequests.push(`${route} with a body that is not JSON`);
      return error(res, 400, "invalid_request_error", "The body is not JSON.");
    }

    const sessionPath = url.pathname.match(/^\/v1\/sessions\/([^/]+)(\/.*)?$/);
    if (route === "GET /v1/agents") return this.list(res, url, this.options.agents, agentObject);
    if (route === "GET /v1/environments") {
      return this.list(res, url, this.options.environments, environmentObject);
    }
    if (route === "POST /v1/sessions") return this.createSession(res, body);
    if (sessionPath) {
      const [, id, rest = ""] = sessionPath;
      const session = this.sessions.get(id as string);
      const action = `${req.method} ${rest}`;
      const known = [
        "GET ",
        "POST ",
        "DELETE ",
        "POST /archive",
        "GET /events/stream",
        "POST /events",
      ];
      if (!known.includes(action)) {
        this.unexpectedRequests.push(route);
        return error(res, 404, "not_found_error", `No route ${route}.`);
      }
      if (!session) return error(res, 404, "not_found_error", `Session ${id} not found.`);
      if (action === "GET ") return json(res, 200, sessionObject(session));
      if (action === "POST ") return this.updateSession(res, session, body);
      if (action === "DELETE ") {
        this.sessions.delete(session.id);
        return json(res, 200, { id: session.id, type: "session_deleted" });
      }
      if (action === "POST /archive") {
        session.archivedAt = new Date().toISOString();
        return json(res, 200, sessionObject(session));
      }
      if (action === "GET /events/stream") return this.openStream(res, url, session);
      return this.receiveEvents(res, session, body);
    }
    this.unexpectedRequests.push(route);
    return error(res, 404, "not_found_error", `No route ${route}.`);
  }

  private list(
    res: ServerResponse,
    url: URL,
    items: NamedResource[],
    shape: (item: NamedResource) => Json,
  ): void {
    const limit = Number(url.searchParams.get("limit") ?? this.options.pageSize);
    const start = Number(url.searchParams.get("page") ?? 0);
    const page = items.slice(start, start + Math.min(limit, this.options.pageSize));
    const next = start + page.length < items.length ? String(start + page.length) : null;
    json(res, 200, { data: page.map(shape), next_page: next });
  }

  private createSession(res: ServerResponse, body: Json): void {
    const agentRef = typeof body?.agent === "string" ? { id: body.agent } : body?.agent;
    const agent = this.options.agents.find((a) => a.id === agentRef?.id && !a.archived);
    if (!agent) {
      error(res, 404, "not_found_error", `Agent ${agentRef?.id} not found.`);
      return;
    }
    const environment = this.options.environments.find((e) => e.id === body?.environment_id);
    if (!environment) {
      error(res, 404, "not_found_error", `Environment ${body?.environment_id} not found.`);
      return;
    }
    if (body.initial_events !== undefined) {
      this.unexpectedRequests.push("POST /v1/sessions with initial_events");
    }
    const budgetCents = body.budget === undefined ? undefined : budgetCentsOf(body.budget);
    if (budgetCents === null) {
      this.unexpectedRequests.push(`POST /v1/sessions with budget ${JSON.stringify(body.budget)}`);
      error(res, 400, "invalid_request_error", "budget: invalid budget.");
      return;
    }
    const session: Session = {
      id: `sesn_${randomUUID().replaceAll("-", "")}`,
      agentId: agent.id,
      agentVersion: agentRef.version ?? 1,
      environmentId: environment.id,
      turns: 0,
      costCents: 0,
      inputTokens: 0,
      outputTokens: 0,
      status: "idle",
      archivedAt: null,
      createdAt: new Date().toISOString(),
      metadata: body.metadata ?? {},
      budgetCents,
      budgetable: budgetCents !== undefined,
      streams: new Map(),
      backlog: [],
    };
    this.sessions.set(session.id, session);
    json(res, 200, sessionObject(session));
  }

  /** `POST /v1/sessions/{id}`: only the budget is changed by Switchboard. */
  private updateSession(res: ServerResponse, session: Session, body: Json) {
    const fields = Object.keys(body ?? {});
    if (fields.some((field) => field !== "budget")) {
      this.unexpectedRequests.push(`POST /v1/sessions/{id} with ${fields.join(", ")}`);
      return error(res, 400, "invalid_request_error", "Unexpected fields.");
    }
    if (session.status === "terminated") {
      return error(res, 400, "invalid_request_error", "The session is terminated.");
    }
    if (body.budget === null) {
      session.budgetCents = undefined;
      session.budgetable = false;
      return json(res, 200, sessionObject(session));
    }
    if (body.budget !== undefined) {
      const cents = budgetCentsOf(body.budget);
      if (cents === null) {
        this.unexpectedRequests.push(`POST /v1/sessions/{id} with ${JSON.stringify(body)}`);
        return error(res, 400, "invalid_request_error", "budget: invalid budget.");
      }
      if (!session.budgetable) {
        this.unexpectedRequests.push("POST /v1/sessions/{id} adding a budget (budget_create_only)");
        return error(res, 400, "invalid_request_error", "budget_create_only");
      }
      if (cents <= session.costCents) {
        this.unexpectedRequests.push("POST /v1/sessions/{id} below the spend (budget_not_raised)");
        return error(res, 400, "invalid_request_error", "budget_not_raised");
      }
      session.budgetCents = cents;
    }
    json(res, 200, sessionObject(session));
  }

  private openStream(res: ServerResponse, url: URL, session: Session): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.flushHeaders();
    // The SDK writes arrays as `event_deltas[]=…`; the API also takes a repeated `event_deltas`.
    const asked = [
      ...url.searchParams.getAll("event_deltas[]"),
      ...url.searchParams.getAll("event_deltas"),
    ];
    const previews = asked.flatMap((value) => value.split(",")).includes("agent.message");
    session.streams.set(res, previews);
    res.on("close", () => session.streams.delete(res));
    for (const event of session.backlog.splice(0)) writeEvent(res, event);
  }

  private receiveEvents(res: ServerResponse, session: Session, body: Json): void {
    const events: Json[] = Array.isArray(body?.events) ? body.events : [];
    const message = events.find((event) => event?.type === "user.message");
    if (message && this.failsThisTurn()) {
      error(res, 529, "overloaded_error", "Overloaded");
      return;
    }
    if (
      events.length === 0 ||
      events.some((e) => !["user.message", "user.interrupt"].includes(e?.type))
    ) {
      this.unexpectedRequests.push(
        `POST /events with ${JSON.stringify(events.map((e) => e?.type))}`,
      );
      error(res, 400, "invalid_request_error", "Unsupported events.");
      return;
    }
    const sent = events.map((event) => ({ ...event, id: this.nextId("sevt"), processed_at: null }));
    json(res, 200, { data: sent });
    for (const event of sent) {
      if (event.type === "user.interrupt") {
        this.countCancellation();
        for (const turn of this.held) {
          if (turn.sessionId === session.id) turn.interrupt();
        }
      } else {
        const text = (event.content ?? [])
          .map((block: Json) => (block?.type === "text" ? block.text : ""))
          .join("");
        void this.answer(session, event, text);
      }
    }
  }

  /** Plays one turn onto the session's stream, the way the API narrates it. */
  private async answer(session: Session, message: Json, text: string): Promise<void> {
    const { turn, answer } = this.answerTurn(session.id, text);
    session.turns = turn;
    const script = this.scripts.shift();
    session.status = "running";
    this.emit(session, message);
    this.emit(session, { type: "session.status_running" });
    if (this.turnsHeld) {
      const waiting: HeldTurn = { sessionId: session.id, interrupt: () => {} };
      this.held.add(waiting);
      const released = await this.whileHeld(
        () =>
          new Promise<void>((resolve) => {
            waiting.interrupt = resolve;
          }),
      );
      this.held.delete(waiting);
      if (!released) {
        session.status = "idle";
        this.emit(session, { type: "user.interrupt" });
        this.emit(session, idle("end_turn"));
        return;
      }
    }
    if (script?.kind === "garbage") {
      for (const res of session.streams.keys())
        res.write("event: agent.message\ndata: {not json\n\n");
      return;
    }
    if (script?.kind === "terminate") {
      session.status = "terminated";
      this.emit(session, sessionError(script.message, "terminal"));
      this.emit(session, { type: "session.status_terminated" });
      return;
    }
    for (let i = 0; i < (script?.kind === "costly" ? script.requests : 0); i += 1) {
      if (this.stopsAtBudget(session)) return;
      const start = this.emit(session, { type: "span.model_request_start" });
      this.emit(session, modelRequestEnd(start.id, 10, false, 10));
      session.costCents += CENTS_PER_TURN;
    }
    if (this.stopsAtBudget(session)) return;
    const requestStart = this.emit(session, { type: "span.model_request_start" });
    if (script?.kind === "tool") {
      const use = this.emit(session, {
        type: "agent.tool_use",
        name: script.name,
        input: script.input,
        evaluated_permission: "allow",
      });
      this.emit(session, {
        type: "agent.tool_result",
        tool_use_id: use.id,
        content: [{ type: "text", text: "done" }],
        is_error: false,
      });
    }
    if (script?.kind === "error") {
      this.emit(session, sessionError(script.message, "retrying"));
      this.emit(session, sessionError(script.message, "exhausted"));
      this.emit(session, modelRequestEnd(requestStart.id, 0, true));
      session.status = "idle";
      this.emit(session, idle("retries_exhausted"));
      return;
    }
    const messageId = this.nextId("sevt");
    const cut = Math.ceil(answer.length / 2);
    const pieces = [answer.slice(0, cut), answer.slice(cut)];
    this.emit(
      session,
      { type: "event_start", event: { type: "agent.message", id: messageId } },
      true,
    );
    for (const piece of pieces) {
      this.emit(
        session,
        {
          type: "event_delta",
          event_id: messageId,
          delta: { type: "content_delta", index: 0, content: { type: "text", text: piece } },
        },
        true,
      );
    }
    this.emit(session, {
      type: "agent.message",
      id: messageId,
      processed_at: new Date().toISOString(),
      content: [{ type: "text", text: answer }],
    });
    const outputTokens = answer.split(/\s+/).length;
    const inputTokens = text.split(/\s+/).filter(Boolean).length + 40;
    this.emit(session, modelRequestEnd(requestStart.id, outputTokens, false, inputTokens));
    session.inputTokens += inputTokens;
    session.outputTokens += outputTokens;
    session.costCents += CENTS_PER_TURN;
    this.emit(session, { type: "session.usage", usage: usageObject(session) });
    session.status = "idle";
    this.emit(session, idle("end_turn"));
  }

  /**
   * Checked before each model request, as the API does: a session whose list cost reached
   * its cap pauses, idle with `budget_reached`, its usage snapshot last.
   */
  private stopsAtBudget(session: Session): boolean {
    if (session.budgetCents === undefined || session.costCents < session.budgetCents) return false;
    this.emit(session, { type: "session.usage", usage: usageObject(session) });
    session.status = "idle";
    this.emit(session, idle("budget_reached"));
    return true;
  }

  /** Sends an event to the session's streams (previews only to those that asked for them). */
  private emit(session: Session, event: Json, preview = false): Json {
    const full =
      preview || event.id
        ? event
        : { id: this.nextId("sevt"), processed_at: new Date().toISOString(), ...event };
    if (!this.sessions.has(session.id)) return full;
    if (session.streams.size === 0) {
      if (!preview) session.backlog.push(full);
      return full;
    }
    for (const [res, previews] of session.streams) {
      if (!preview || previews) writeEvent(res, full);
    }
    return full;
  }

  private nextId(prefix: string): string {
    this.eventCounter += 1;
    return `${prefix}_${String(this.eventCounter).padStart(8, "0")}`;
  }
}

function writeEvent(res: ServerResponse, event: Json): void {
  if (!res.destroyed) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

function json(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "request-id": `req_${randomUUID()}`,
  });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, type: string, message: string): void {
  json(res, status, { type: "error", error: { type, message } });
}

function idle(reason: string): Json {
  return { type: "session.status_idle", stop_reason: { type: reason }, stop_details: null };
}

function sessionError(message: string, retry: "retrying" | "exhausted" | "terminal"): Json {
  return {
    type: "session.error",
    error: { type: "model_request_failed_error", message, retry_status: { type: retry } },
  };
}

function modelRequestEnd(
  startId: string,
  outputTokens: number,
  isError: boolean,
  inputTokens = 0,
): Json {
  return {
    type: "span.model_request_end",
    model_request_start_id: startId,
    is_error: isError,
    model_usage: {
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    },
  };
}

function usageObject(session: Session): Json {
  return {
    input_tokens: session.inputTokens,
    output_tokens: session.outputTokens,
    cache_read_input_tokens: 0,
    list_cost: { amount: String(session.costCents), currency: "USD" },
  };
}

/** What agents and environments have in common on the wire. */
function namedObject(type: "agent" | "environment", resource: NamedResource): Json {
  return {
    id: resource.id,
    type,
    name: resource.name,
    description: null,
    archived_at: resource.archived ? "2026-01-01T00:00:00Z" : null,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
  };
}

function agentObject(agent: NamedResource): Json {
  return {
    ...namedObject("agent", agent),
    version: 1,
    model: { id: DOUBLE_MODEL },
    system: null,
    tools: [],
    mcp_servers: [],
    skills: [],
    metadata: {},
    multiagent: null,
    execution_identity: { type: "service_account" },
  };
}

function environmentObject(environment: NamedResource): Json {
  return {
    ...namedObject("environment", environment),
    config: { type: "cloud" },
    metadata: {},
  };
}

function sessionObject(session: Session): Json {
  return {
    id: session.id,
    type: "session",
    agent: {
      id: session.agentId,
      type: "agent",
      name: "contract-agent",
      description: null,
      version: session.agentVersion,
      model: { id: DOUBLE_MODEL },
      system: null,
      tools: [],
      mcp_servers: [],
      skills: [],
      multiagent: null,
      execution_identity: { type: "service_account" },
    },
    environment_id: session.environmentId,
    status: session.status,
    archived_at: session.archivedAt,
    created_at: session.createdAt,
    updated_at: session.createdAt,
    title: null,
    metadata: session.metadata,
    resources: [],
    vault_ids: [],
    outcome_evaluations: [],
    budget: session.budgetCents === undefined ? null : budgetObject(session.budgetCents),
    stats: { active_seconds: session.turns, duration_seconds: session.turns },
    usage: usageObject(session),
  };
}

function budgetObject(cents: number): Json {
  return { type: "limit", max_list_cost: { amount: String(cents), currency: "USD" } };
}

/** A budget's cap in cents, or null when it is not as the API takes it. */
function budgetCentsOf(budget: Json): number | null {
  const cost = budget?.max_list_cost;
  const keys = Object.keys(budget ?? {})
    .sort()
    .join(",");
  if (keys !== "max_list_cost,type" || budget.type !== "limit") return null;
  if (cost?.currency !== "USD" || typeof cost.amount !== "string") return null;
  if (!/^[1-9]\d*$/.test(cost.amount)) return null; // whole cents, no leading zero, above 0
  return Number(cost.amount);
}
