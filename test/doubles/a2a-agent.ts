import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { ContractAgent } from "./contract-agent.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local A2A agent on 127.0.0.1, written by hand on node:http so every byte of the wire is
 * under the test's control: the agent card at `/.well-known/agent-card.json` and JSON-RPC at
 * `/a2a`, in either protocol version:
 * - 1.0: methods `SendMessage`, `SendStreamingMessage`, `GetTask`, `CancelTask`; proto-JSON
 *   objects (`{ task }`, `{ statusUpdate }`, `{ artifactUpdate }`, `TASK_STATE_*`, `ROLE_*`).
 * - 0.3: methods `message/send`, `message/stream`, `tasks/get`, `tasks/cancel`; objects
 *   discriminated by `kind` (`task`, `status-update`, `artifact-update`), lower-case states.
 *
 * It hosts the contract's agent (`You said "<text>" (turn <N>)`, N counting the turns of the
 * A2A context), streams answers as three artifact chunks, honours `returnImmediately` /
 * `blocking` for plain sends, and answers a contextId it does not know with the A2A
 * TaskNotFound error (-32001), which is how it signals a forgotten session.
 */

export type A2aProtocol = "1.0" | "0.3";
type State =
  | "submitted"
  | "working"
  | "completed"
  | "failed"
  | "canceled"
  | "input-required"
  | "rejected";

export interface A2aAgentOptions {
  protocol: A2aProtocol;
  /** What the card's `capabilities.streaming` says. */
  streaming: boolean;
  /** When set, JSON-RPC calls must carry exactly this Authorization header (else 401). */
  authorization?: string;
}

/** A scripted answer for the next turn, instead of the echo. */
export interface ScriptedOutcome {
  /** A task ending in this state, or (`message`) a direct Message reply without a task. */
  state: "failed" | "rejected" | "input-required" | "message";
  text: string;
}

type TaskOutcome = ScriptedOutcome & { state: Exclude<ScriptedOutcome["state"], "message"> };

export interface ReceivedCall {
  method: string;
  headers: IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: params are asserted on by tests.
  params: any;
}

interface AgentTask {
  id: string;
  contextId: string;
  state: State;
  answer: string;
  /** Resolves when the task may go on (not held, released or cancelled). */
  gate: Promise<void>;
  open: () => void;
}

const TERMINAL = new Set<State>(["completed", "failed", "canceled", "rejected", "input-required"]);

const METHODS: Record<A2aProtocol, { send: string; stream: string; get: string; cancel: string }> =
  {
    "1.0": {
      send: "SendMessage",
      stream: "SendStreamingMessage",
      get: "GetTask",
      cancel: "CancelTask",
    },
    "0.3": {
      send: "message/send",
      stream: "message/stream",
      get: "tasks/get",
      cancel: "tasks/cancel",
    },
  };

export class A2aAgentDouble extends ContractAgent {
  readonly calls: ReceivedCall[] = [];
  cardFetches = 0;
  private readonly tasks = new Map<string, AgentTask>();
  private scripted: ScriptedOutcome[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    readonly url: string,
    readonly options: A2aAgentOptions,
  ) {
    super();
  }

  static async start(options: A2aAgentOptions): Promise<A2aAgentDouble> {
    const server = await startLoopbackServer((req, res) => {
      double.handle(req, res).catch((error: unknown) => {
        double.unexpectedRequests.push(`double crashed: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500).end();
        else res.end();
      });
    });
    const double = new A2aAgentDouble(server, server.url, options);
    return double;
  }

  get cardUrl(): string {
    return `${this.url}/.well-known/agent-card.json`;
  }

  // AgentDouble (the rest is the contract agent's) ----------------------------------------

  override forgetSessions(): void {
    super.forgetSessions();
    this.tasks.clear();
  }
  override reset(): void {
    super.reset();
    this.scripted = [];
    this.calls.length = 0;
    this.cardFetches = 0;
  }

  /** The next turn ends in this state with this text instead of the echo. */
  answerNextWith(outcome: ScriptedOutcome): void {
    this.scripted.push(outcome);
  }

  async close(): Promise<void> {
    this.releaseTurns();
    await this.server.close();
  }

  // HTTP --------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/.well-known/agent-card.json") {
      this.cardFetches += 1;
      return json(res, 200, this.card());
    }
    if (req.method !== "POST" || path !== "/a2a") {
      this.unexpectedRequests.push(`${req.method} ${req.url}`);
      return json(res, 404, { error: "not found" });
    }
    // biome-ignore lint/suspicious/noExplicitAny: the envelope is checked field by field.
    let envelope: any;
    try {
      envelope = JSON.parse(raw);
    } catch {
      this.unexpectedRequests.push(`POST /a2a with a body that is not JSON: ${raw.slice(0, 80)}`);
      return json(res, 200, rpcError(null, -32700, "Parse error"));
    }
    const { id, method, params } = envelope ?? {};
    this.calls.push({ method, headers: req.headers, params });
    if (envelope?.jsonrpc !== "2.0" || typeof method !== "string") {
      this.unexpectedRequests.push(`not a JSON-RPC 2.0 request: ${raw.slice(0, 80)}`);
      return json(res, 200, rpcError(id ?? null, -32600, "Invalid Request"));
    }
    if (this.options.protocol === "1.0" && req.headers["a2a-version"] !== "1.0") {
      this.unexpectedRequests.push(`${method} without A2A-Version: 1.0`);
    }
    if (this.options.authorization && req.headers.authorization !== this.options.authorization) {
      return json(res, 401, { error: "unauthorized" });
    }
    const names = METHODS[this.options.protocol];
    switch (method) {
      case names.send:
        return this.send(res, id, params, false);
      case names.stream:
        if (!this.options.streaming) {
          this.unexpectedRequests.push(`${method} although the card says no streaming`);
        }
        return this.send(res, id, params, true);
      case names.get:
        return this.getTask(res, id, params);
      case names.cancel:
        return this.cancel(res, id, params);
      default:
        this.unexpectedRequests.push(`JSON-RPC method ${method}`);
        return json(res, 200, rpcError(id, -32601, `Method not found: ${method}`));
    }
  }

  private card(): unknown {
    const common = {
      name: "Echo agent",
      description: "Repeats what it is told, with the turn number.",
      version: "1.0.0",
      capabilities: { streaming: this.options.streaming, pushNotifications: false },
      defaultInputModes: ["text/plain"],
      defaultOutputModes: ["text/plain"],
      skills: [{ id: "echo", name: "Echo", description: "Echoes the input.", tags: ["echo"] }],
    };
    if (this.options.protocol === "0.3") {
      return {
        protocolVersion: "0.3.0",
        url: `${this.url}/a2a`,
        preferredTransport: "JSONRPC",
        ...common,
      };
    }
    return {
      supportedInterfaces: [
        { url: `${this.url}/a2a`, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
      ],
      ...common,
    };
  }

  // biome-ignore lint/suspicious/noExplicitAny: wire params.
  private async send(res: ServerResponse, id: unknown, params: any, streaming: boolean) {
    const message = params?.message;
    const v03 = this.options.protocol === "0.3";
    const role = message?.role;
    if (role !== (v03 ? "user" : "ROLE_USER") || (v03 && message?.kind !== "message")) {
      this.unexpectedRequests.push(
        `a message that is not a user message: ${JSON.stringify(message)}`,
      );
    }
    const text = ((message?.parts ?? []) as { kind?: string; text?: unknown }[])
      .filter((part) => typeof part.text === "string" && (!v03 || part.kind === "text"))
      .map((part) => part.text)
      .join("");
    if (!text) this.unexpectedRequests.push("a message without a text part");
    if (this.failsThisTurn()) {
      res.writeHead(503, { "content-type": "text/plain" }).end("The agent is busy.");
      return;
    }
    let contextId: string = message?.contextId || "";
    if (contextId && !this.knowsSession(contextId)) {
      return json(res, 200, rpcError(id, -32001, `Task not found: no context ${contextId}`));
    }
    contextId ||= randomUUID();
    const { answer } = this.answerTurn(contextId, text);
    const script = this.scripted.shift();
    if (script?.state === "message")
      return this.replyWithMessage(res, id, contextId, script.text, streaming);
    const task = this.newTask(contextId, answer);
    const outcome = script as TaskOutcome | undefined;
    if (streaming) return this.stream(res, id, task, outcome);
    const immediately = v03
      ? params?.configuration?.blocking === false
      : params?.configuration?.returnImmediately === true;
    const done = this.work(task, outcome);
    if (!immediately) await done;
    json(res, 200, rpcResult(id, v03 ? this.taskJson(task) : { task: this.taskJson(task) }));
  }

  private replyWithMessage(
    res: ServerResponse,
    id: unknown,
    contextId: string,
    text: string,
    streaming: boolean,
  ): void {
    const v03 = this.options.protocol === "0.3";
    const message = {
      ...(v03 ? { kind: "message" } : {}),
      messageId: randomUUID(),
      role: v03 ? "agent" : "ROLE_AGENT",
      parts: [this.textPart(text)],
      contextId,
    };
    const result = v03 ? message : { message };
    if (!streaming) {
      json(res, 200, rpcResult(id, result));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.end(`data: ${JSON.stringify(rpcResult(id, result))}\n\n`);
  }

  private newTask(contextId: string, answer: string): AgentTask {
    let open = () => {};
    const cancelled = new Promise<void>((resolve) => {
      open = resolve;
    });
    const gate = this.whileHeld(() => cancelled).then(() => {});
    const task: AgentTask = { id: randomUUID(), contextId, state: "working", answer, gate, open };
    this.tasks.set(task.id, task);
    return task;
  }

  private async work(task: AgentTask, script?: TaskOutcome): Promise<void> {
    await task.gate;
    if (isCanceled(task)) return;
    if (script) {
      task.state = script.state;
      task.answer = script.text;
    } else {
      task.state = "completed";
    }
  }

  private async stream(
    res: ServerResponse,
    id: unknown,
    task: AgentTask,
    script?: TaskOutcome,
  ): Promise<void> {
    const v03 = this.options.protocol === "0.3";
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (result: unknown) => {
      if (!res.destroyed) res.write(`data: ${JSON.stringify(rpcResult(id, result))}\n\n`);
    };
    const event = (kind: "task" | "status" | "artifact", value: unknown) =>
      v03
        ? value
        : {
            [kind === "status" ? "statusUpdate" : kind === "artifact" ? "artifactUpdate" : kind]:
              value,
          };
    task.state = "submitted";
    send(event("task", this.taskJson(task, false)));
    task.state = "working";
    send(event("status", this.statusEvent(task)));
    await task.gate;
    if (isCanceled(task)) {
      send(event("status", this.statusEvent(task)));
      return void res.end();
    }
    if (script) {
      task.state = script.state;
      task.answer = script.text;
      send(event("status", this.statusEvent(task)));
      return void res.end();
    }
    const pieces = splitInThree(task.answer);
    for (const [index, piece] of pieces.entries()) {
      send(
        event("artifact", {
          ...(v03 ? { kind: "artifact-update" } : {}),
          taskId: task.id,
          contextId: task.contextId,
          artifact: {
            artifactId: `${task.id}-answer`,
            name: "answer",
            parts: [this.textPart(piece)],
          },
          append: index > 0,
          lastChunk: index === pieces.length - 1,
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    task.state = "completed";
    send(event("status", this.statusEvent(task)));
    res.end();
  }

  // biome-ignore lint/suspicious/noExplicitAny: wire params.
  private getTask(res: ServerResponse, id: unknown, params: any) {
    const task = this.tasks.get(this.taskIdOf(params));
    if (!task) return json(res, 200, rpcError(id, -32001, "Task not found"));
    json(res, 200, rpcResult(id, this.taskJson(task)));
  }

  // biome-ignore lint/suspicious/noExplicitAny: wire params.
  private cancel(res: ServerResponse, id: unknown, params: any) {
    const task = this.tasks.get(this.taskIdOf(params));
    if (!task) return json(res, 200, rpcError(id, -32001, "Task not found"));
    if (TERMINAL.has(task.state)) {
      return json(res, 200, rpcError(id, -32002, "Task cannot be canceled"));
    }
    this.countCancellation();
    task.state = "canceled";
    task.open();
    json(res, 200, rpcResult(id, this.taskJson(task)));
  }

  // biome-ignore lint/suspicious/noExplicitAny: wire params.
  private taskIdOf(params: any): string {
    // 1.0 names the task `id`; 0.3's TaskIdParams does too.
    const taskId = params?.id;
    if (typeof taskId !== "string") this.unexpectedRequests.push("a task call without an id");
    return String(taskId);
  }

  // Wire encoding -------------------------------------------------------------------------

  private textPart(text: string) {
    return this.options.protocol === "0.3" ? { kind: "text", text } : { text };
  }

  private state(state: State): string {
    if (this.options.protocol === "0.3") return state;
    return `TASK_STATE_${state.toUpperCase().replace("-", "_")}`;
  }

  private status(task: AgentTask) {
    const speaks =
      task.state !== "completed" && task.state !== "working" && task.state !== "submitted";
    const v03 = this.options.protocol === "0.3";
    return {
      state: this.state(task.state),
      timestamp: new Date().toISOString(),
      ...(speaks && task.state !== "canceled"
        ? {
            message: {
              ...(v03 ? { kind: "message" } : {}),
              messageId: randomUUID(),
              role: v03 ? "agent" : "ROLE_AGENT",
              parts: [this.textPart(task.answer)],
              contextId: task.contextId,
              taskId: task.id,
            },
          }
        : {}),
    };
  }

  private statusEvent(task: AgentTask) {
    const v03 = this.options.protocol === "0.3";
    return {
      ...(v03 ? { kind: "status-update", final: TERMINAL.has(task.state) } : {}),
      taskId: task.id,
      contextId: task.contextId,
      status: this.status(task),
    };
  }

  private taskJson(task: AgentTask, withArtifacts = true) {
    const v03 = this.options.protocol === "0.3";
    const artifacts =
      withArtifacts && task.state === "completed"
        ? [{ artifactId: `${task.id}-answer`, name: "answer", parts: [this.textPart(task.answer)] }]
        : [];
    return {
      ...(v03 ? { kind: "task" } : {}),
      id: task.id,
      contextId: task.contextId,
      status: this.status(task),
      artifacts,
    };
  }
}

/** Read after an await, when a cancel may have changed the state TypeScript narrowed. */
function isCanceled(task: AgentTask): boolean {
  return task.state === "canceled";
}

function splitInThree(text: string): string[] {
  const words = text.split(/(?<= )/);
  const size = Math.ceil(words.length / 3);
  const pieces: string[] = [];
  for (let index = 0; index < words.length; index += size) {
    pieces.push(words.slice(index, index + size).join(""));
  }
  return pieces;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function rpcResult(id: unknown, result: unknown) {
  return { jsonrpc: "2.0", id, result };
}

function rpcError(id: unknown, code: number, message: string) {
  return { jsonrpc: "2.0", id, error: { code, message } };
}
