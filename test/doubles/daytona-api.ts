import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type LoopbackServer, startLoopbackServer } from "./loopback-server.js";
import { acceptWebSocket, serverFrame } from "./websocket-frames.js";

/**
 * A local stand-in for Daytona's wire API, for the real `@daytonaio/sdk` to talk to. Shaped
 * from the SDK's generated clients (`@daytona/api-client`, `@daytona/toolbox-api-client`)
 * and Daytona's API reference (https://www.daytona.io/docs/en/tools/api):
 *
 * REST API (under `/api`, `Authorization: Bearer <key>`):
 * - `POST /sandbox` (CreateSandbox: snapshot, cpu, memory, disk in GiB, labels, env,
 *   autoStopInterval in minutes, networkBlockAll, networkAllowList, domainAllowList, target…)
 *   answers the Sandbox, `started`, with its `toolboxProxyUrl`;
 * - `GET /sandbox/{id}`, `POST /sandbox/{id}/start`, `POST /sandbox/{id}/stop`,
 *   `DELETE /sandbox/{id}`: 404 `{ statusCode, message, code }` for one it does not have;
 * - `GET /sandbox?labels=<JSON>` answers `{ items, nextCursor }`.
 *
 * Toolbox (`{toolboxProxyUrl}/{sandboxId}/…`, only while the sandbox is `started`):
 * - `POST /process/session`, `POST /process/session/{s}/exec` (`runAsync` → `{ cmdId }`),
 *   `GET /process/session/{s}/command/{c}` (`{ id, command, exitCode }`),
 *   the WebSocket `GET /process/session/{s}/command/{c}/logs?follow=true` (binary frames,
 *   stdout after the `01 01 01` marker, stderr after `02 02 02`, closed when the command
 *   ends), `DELETE /process/session/{s}` (ends the session and kills its processes);
 * - `POST /files/bulk-upload` (multipart `files[i].path` / `files[i].file`), `DELETE /files`.
 *
 * Honest where it matters: each sandbox is a temporary directory that outlives stops (its
 * "disk"), and commands really run there in `bash`, with the sandbox's directory as home
 * and working directory, so files written by one turn are read by the next. Stopping or
 * deleting a sandbox kills its processes. Any other route, a body field the API does not
 * take, a toolbox call to a sandbox that is not started, or a request without the key is
 * recorded as unexpected.
 */

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are plain JSON.
type Json = any;

const CREATE_FIELDS = new Set([
  "name",
  "snapshot",
  "buildInfo",
  "user",
  "env",
  "labels",
  "public",
  "target",
  "cpu",
  "gpu",
  "gpuType",
  "spot",
  "memory",
  "disk",
  "autoStopInterval",
  "autoPauseInterval",
  "autoArchiveInterval",
  "autoDeleteInterval",
  "ttlMinutes",
  "volumes",
  "kvm",
  "networkBlockAll",
  "networkAllowList",
  "domainAllowList",
  "outboundProxyUrl",
  "otelEndpointOverride",
  "linkedSandbox",
  "secrets",
]);

export interface DoubleCommand {
  id: string;
  session: string;
  sandboxId: string;
  command: string;
  exitCode?: number | undefined;
  output: Buffer[];
  followers: Set<Socket>;
  child?: ChildProcess | undefined;
  /** Held commands start when released (or never, when their session is deleted first). */
  start?: (() => void) | undefined;
}

export interface DoubleSandbox {
  id: string;
  state: "started" | "stopped" | "starting" | "stopping";
  dir: string;
  body: Json;
  labels: Record<string, string>;
  createdAt: string;
  sessions: Map<string, DoubleCommand[]>;
}

const STDOUT = Buffer.from([1, 1, 1]);
const STDERR = Buffer.from([2, 2, 2]);

export class DaytonaApiDouble {
  readonly sandboxes = new Map<string, DoubleSandbox>();
  /** Every request, as `METHOD path` (toolbox paths without the sandbox prefix). */
  readonly requests: string[] = [];
  readonly created: Json[] = [];
  readonly destroyed: string[] = [];
  readonly stops: string[] = [];
  readonly commands: DoubleCommand[] = [];
  private readonly unexpectedRequests: string[] = [];
  private failing = 0;
  private holding = false;
  private cancelled = 0;
  private readonly root = mkdtempSync(join(tmpdir(), "daytona-double-"));

  private constructor(
    private readonly server: LoopbackServer,
    private readonly apiKey: string,
    private readonly toolboxOverride?: string,
  ) {}

  /** `toolboxUrl`: another address to name as the sandboxes' toolbox (a hostile API's). */
  static async start(options: { apiKey: string; toolboxUrl?: string }): Promise<DaytonaApiDouble> {
    let double: DaytonaApiDouble | undefined;
    const server = await startLoopbackServer(
      (req, res) => {
        double?.handle(req, res).catch((error) => {
          double?.unexpectedRequests.push(`${req.method} ${req.url}: ${String(error)}`);
          if (!res.headersSent) send(res, 500, { statusCode: 500, message: String(error) });
        });
      },
      0,
      (req, socket) => double?.upgrade(req, socket),
    );
    double = new DaytonaApiDouble(server, options.apiKey, options.toolboxUrl);
    return double;
  }

  /** The API address an agent's `api_url` names. */
  get url(): string {
    return `${this.server.url}/api`;
  }

  get toolboxUrl(): string {
    return this.toolboxOverride ?? `${this.server.url}/toolbox`;
  }

  unexpected(): readonly string[] {
    return [...this.unexpectedRequests];
  }

  /** The next `count` command executions fail as an overloaded runner would (HTTP 503). */
  failNextExecs(count: number): void {
    this.failing = count;
  }

  /** From now on commands are received but start only on `release()` (or die with their session). */
  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const command of this.commands) {
      const start = command.start;
      command.start = undefined;
      start?.();
    }
  }

  /** Sessions deleted while one of their commands was still running: kills. */
  kills(): number {
    return this.cancelled;
  }

  /** Deletes every sandbox, as Daytona does with ones past their auto-delete interval. */
  expireAll(): void {
    for (const id of [...this.sandboxes.keys()]) this.remove(id);
  }

  /** A sandbox made directly (as one left behind by an earlier process), with these labels. */
  plant(labels: Record<string, string>, createdAt = new Date(Date.now() - 3_600_000)): string {
    const sandbox = this.add({ labels }, createdAt);
    sandbox.state = "stopped";
    return sandbox.id;
  }

  /** Reads a file of a sandbox, from its disk. */
  fileOf(sandboxId: string, path: string): string | undefined {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return undefined;
    try {
      return readFileSync(this.pathIn(sandbox, path), "utf8");
    } catch {
      return undefined;
    }
  }

  reset(): void {
    this.release();
    this.requests.length = 0;
    this.created.length = 0;
    this.destroyed.length = 0;
    this.stops.length = 0;
    this.commands.length = 0;
    this.unexpectedRequests.length = 0;
    this.failing = 0;
    this.cancelled = 0;
  }

  async close(): Promise<void> {
    for (const id of [...this.sandboxes.keys()]) this.remove(id);
    await this.server.close();
    rmSync(this.root, { recursive: true, force: true });
  }

  private add(body: Json, createdAt = new Date()): DoubleSandbox {
    const id = randomUUID();
    const dir = join(this.root, id);
    mkdirSync(dir, { recursive: true });
    const sandbox: DoubleSandbox = {
      id,
      state: "started",
      dir,
      body,
      labels: { ...(body.labels ?? {}) },
      createdAt: createdAt.toISOString(),
      sessions: new Map(),
    };
    this.sandboxes.set(id, sandbox);
    return sandbox;
  }

  private remove(id: string): void {
    const sandbox = this.sandboxes.get(id);
    if (!sandbox) return;
    this.killAll(sandbox);
    this.sandboxes.delete(id);
    rmSync(sandbox.dir, { recursive: true, force: true });
  }

  private killAll(sandbox: DoubleSandbox): void {
    for (const commands of sandbox.sessions.values()) for (const c of commands) this.kill(c);
    sandbox.sessions.clear();
  }

  /** Ends a command: its process group killed, or a held one never started. */
  private kill(command: DoubleCommand): boolean {
    if (command.exitCode !== undefined) return false;
    command.start = undefined;
    if (command.child?.pid) {
      try {
        process.kill(-command.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    } else {
      this.finish(command, 137);
    }
    return true;
  }

  private dto(sandbox: DoubleSandbox, state: string = sandbox.state): Json {
    const body = sandbox.body;
    return {
      id: sandbox.id,
      organizationId: "org-double",
      name: body.name ?? sandbox.id,
      snapshot: body.snapshot ?? "daytonaio/sandbox:default",
      user: "daytona",
      env: body.env ?? {},
      labels: sandbox.labels,
      public: false,
      networkBlockAll: body.networkBlockAll ?? false,
      ...(body.networkAllowList ? { networkAllowList: body.networkAllowList } : {}),
      ...(body.domainAllowList ? { domainAllowList: body.domainAllowList } : {}),
      target: body.target ?? "us",
      cpu: body.cpu ?? 1,
      gpu: 0,
      memory: body.memory ?? 1,
      disk: body.disk ?? 3,
      state,
      desiredState: state === "destroyed" ? "destroyed" : sandbox.state,
      autoStopInterval: body.autoStopInterval ?? 15,
      autoArchiveInterval: 10080,
      autoDeleteInterval: -1,
      createdAt: sandbox.createdAt,
      updatedAt: new Date().toISOString(),
      toolboxProxyUrl: this.toolboxUrl,
    };
  }

  private authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.apiKey}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const url = new URL(req.url ?? "/", "http://double");
    const method = req.method ?? "GET";
    const path = url.pathname;
    const raw = await readRaw(req);
    if (!this.authorized(req)) {
      this.unexpectedRequests.push(`${method} ${path} without the account's key`);
      return send(res, 401, {
        statusCode: 401,
        message: "Invalid credentials",
        code: "UNAUTHORIZED",
      });
    }
    if (path.startsWith("/api/")) return this.api(method, path.slice(4), url, raw, req, res);
    const toolbox = /^\/toolbox\/([^/]+)(\/.*)$/.exec(path);
    if (toolbox) {
      return this.toolbox(method, toolbox[1] as string, toolbox[2] as string, url, raw, req, res);
    }
    this.unexpectedRequests.push(`${method} ${path}`);
    return send(res, 404, { statusCode: 404, message: "Not found" });
  }

  private api(
    method: string,
    path: string,
    url: URL,
    raw: Buffer,
    _req: IncomingMessage,
    res: ServerResponse,
  ): boolean {
    this.requests.push(`${method} ${path}`);
    if (method === "POST" && path === "/sandbox") {
      const body = JSON.parse(raw.toString("utf8") || "{}");
      const unknown = Object.keys(body).filter((key) => !CREATE_FIELDS.has(key));
      if (unknown.length > 0)
        this.unexpectedRequests.push(`POST /sandbox with ${unknown.join(", ")}`);
      this.created.push(body);
      return send(res, 200, this.dto(this.add(body)));
    }
    if (method === "GET" && path === "/sandbox") {
      const wanted = JSON.parse(url.searchParams.get("labels") ?? "{}") as Record<string, string>;
      const items = [...this.sandboxes.values()]
        .filter((s) => Object.entries(wanted).every(([k, v]) => s.labels[k] === v))
        .map((s) => {
          const { env: _env, toolboxProxyUrl: _t, ...item } = this.dto(s);
          return { ...item, toolboxProxyUrl: this.toolboxUrl };
        });
      return send(res, 200, { items, nextCursor: null });
    }
    const one = /^\/sandbox\/([^/]+)(\/start|\/stop|\/toolbox-proxy-url)?$/.exec(path);
    if (!one) {
      this.unexpectedRequests.push(`${method} /api${path}`);
      return send(res, 404, { statusCode: 404, message: "Cannot route" });
    }
    const sandbox = this.sandboxes.get(one[1] as string);
    if (!sandbox) {
      return send(res, 404, {
        statusCode: 404,
        message: `Sandbox with ID or name ${one[1]} not found`,
        code: "NOT_FOUND",
      });
    }
    const action = one[2];
    if (method === "GET" && !action) return send(res, 200, this.dto(sandbox));
    if (method === "GET" && action === "/toolbox-proxy-url") {
      return send(res, 200, { url: this.toolboxUrl });
    }
    if (method === "POST" && action === "/start") {
      sandbox.state = "started";
      return send(res, 200, this.dto(sandbox));
    }
    if (method === "POST" && action === "/stop") {
      this.killAll(sandbox);
      sandbox.state = "stopped";
      this.stops.push(sandbox.id);
      return send(res, 200, this.dto(sandbox));
    }
    if (method === "DELETE" && !action) {
      const answer = this.dto(sandbox, "destroyed");
      this.remove(sandbox.id);
      this.destroyed.push(sandbox.id);
      return send(res, 200, answer);
    }
    this.unexpectedRequests.push(`${method} /api${path}`);
    return send(res, 404, { statusCode: 404, message: "Cannot route" });
  }

  private async toolbox(
    method: string,
    sandboxId: string,
    path: string,
    url: URL,
    raw: Buffer,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<unknown> {
    this.requests.push(`${method} toolbox${path}`);
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return send(res, 404, { statusCode: 404, message: "sandbox not found" });
    if (sandbox.state !== "started") {
      this.unexpectedRequests.push(
        `${method} toolbox${path} while the sandbox is ${sandbox.state}`,
      );
      return send(res, 502, { statusCode: 502, message: "sandbox is not running" });
    }
    if (method === "POST" && path === "/process/session") {
      const { sessionId } = JSON.parse(raw.toString("utf8"));
      if (sandbox.sessions.has(sessionId)) {
        return send(res, 409, { statusCode: 409, message: "session already exists" });
      }
      sandbox.sessions.set(sessionId, []);
      res.writeHead(201).end();
      return;
    }
    if (method === "POST" && path === "/files/bulk-upload") {
      const form = await new Request("http://double/upload", {
        method: "POST",
        headers: { "content-type": String(req.headers["content-type"]) },
        body: raw,
      }).formData();
      for (let i = 0; form.has(`files[${i}].path`); i++) {
        const target = this.pathIn(sandbox, String(form.get(`files[${i}].path`)));
        const file = form.get(`files[${i}].file`) as Blob;
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, Buffer.from(await file.arrayBuffer()));
      }
      res.writeHead(200).end();
      return;
    }
    if (method === "DELETE" && path === "/files") {
      rmSync(this.pathIn(sandbox, url.searchParams.get("path") ?? ""), { force: true });
      res.writeHead(204).end();
      return;
    }
    const session = /^\/process\/session\/([^/]+)(\/exec|\/command\/([^/]+))?$/.exec(path);
    const commands = session ? sandbox.sessions.get(session[1] as string) : undefined;
    if (!session || !commands) {
      if (!session) this.unexpectedRequests.push(`${method} toolbox${path}`);
      return send(res, 404, { statusCode: 404, message: "session not found" });
    }
    if (method === "DELETE" && !session[2]) {
      for (const command of commands) if (this.kill(command)) this.cancelled++;
      sandbox.sessions.delete(session[1] as string);
      res.writeHead(204).end();
      return;
    }
    if (method === "POST" && session[2] === "/exec") {
      const body = JSON.parse(raw.toString("utf8"));
      const unknown = Object.keys(body).filter(
        (key) => !["command", "runAsync", "async", "suppressInputEcho"].includes(key),
      );
      if (unknown.length > 0 || body.runAsync !== true) {
        this.unexpectedRequests.push(`exec with ${JSON.stringify(Object.keys(body))}`);
      }
      if (this.failing > 0) {
        this.failing--;
        return send(res, 503, { statusCode: 503, message: "No runner is available right now" });
      }
      const command = this.exec(sandbox, session[1] as string, String(body.command));
      commands.push(command);
      return send(res, 200, { cmdId: command.id });
    }
    const commandId = session[3];
    const command = commands.find((c) => c.id === commandId);
    if (method === "GET" && command) {
      return send(res, 200, {
        id: command.id,
        command: command.command,
        ...(command.exitCode === undefined ? {} : { exitCode: command.exitCode }),
      });
    }
    this.unexpectedRequests.push(`${method} toolbox${path}`);
    return send(res, 404, { statusCode: 404, message: "command not found" });
  }

  /** Runs a command line in the sandbox's directory, as the daemon's session shell would. */
  private exec(sandbox: DoubleSandbox, session: string, line: string): DoubleCommand {
    const command: DoubleCommand = {
      id: randomUUID(),
      session,
      sandboxId: sandbox.id,
      command: line,
      output: [],
      followers: new Set(),
    };
    this.commands.push(command);
    const start = () => {
      const child = spawn("bash", ["-c", line, "daytona-session"], {
        cwd: sandbox.dir,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: sandbox.dir,
          BASH_ENV: "",
          ...(sandbox.body.env ?? {}),
        },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      command.child = child;
      child.stdout?.on("data", (chunk: Buffer) => this.emit(command, STDOUT, chunk));
      child.stderr?.on("data", (chunk: Buffer) => this.emit(command, STDERR, chunk));
      child.on("close", (code, signal) => this.finish(command, code ?? (signal ? 137 : 1)));
    };
    if (this.holding) command.start = start;
    else start();
    return command;
  }

  private emit(command: DoubleCommand, marker: Buffer, chunk: Buffer): void {
    const frame = Buffer.concat([marker, chunk]);
    command.output.push(frame);
    for (const socket of command.followers) socket.write(serverFrame(0x2, frame));
  }

  private finish(command: DoubleCommand, exitCode: number): void {
    if (command.exitCode !== undefined) return;
    command.exitCode = exitCode;
    for (const socket of command.followers) socket.end(serverFrame(0x8, Buffer.from([0x03, 0xe8])));
    command.followers.clear();
  }

  /** The logs WebSocket: what was written so far, then live output, closed at the end. */
  private upgrade(req: IncomingMessage, socket: Socket): void {
    const url = new URL(req.url ?? "/", "http://double");
    const match = /^\/toolbox\/([^/]+)\/process\/session\/([^/]+)\/command\/([^/]+)\/logs$/.exec(
      url.pathname,
    );
    const sandbox = match ? this.sandboxes.get(match[1] as string) : undefined;
    const command = sandbox?.sessions.get(match?.[2] as string)?.find((c) => c.id === match?.[3]);
    this.requests.push(`WS ${url.pathname.replace(/^\/toolbox\/[^/]+/, "toolbox")}`);
    if (!this.authorized(req) || !command || url.searchParams.get("follow") !== "true") {
      this.unexpectedRequests.push(`WS ${url.pathname}${url.search}`);
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    if (!acceptWebSocket(req, socket)) return;
    socket.on("error", () => {});
    socket.on("data", () => {});
    for (const frame of command.output) socket.write(serverFrame(0x2, frame));
    if (command.exitCode !== undefined) {
      socket.end(serverFrame(0x8, Buffer.from([0x03, 0xe8])));
      return;
    }
    command.followers.add(socket);
    socket.on("close", () => command.followers.delete(socket));
  }

  /** A sandbox path on its disk: relative to its home, absolute ones under it too. */
  private pathIn(sandbox: DoubleSandbox, path: string): string {
    const target = resolve(sandbox.dir, path.replace(/^\/+/, ""));
    if (!target.startsWith(sandbox.dir)) throw new Error(`path ${path} leaves the sandbox`);
    return target;
  }
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: Json): true {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  return true;
}

/**
 * One Daytona double for a test file: started before its tests, closed after them; after
 * each test, any request it did not expect fails that test, and it is reset.
 */
export function useDaytonaDouble(apiKey: string): { readonly double: DaytonaApiDouble } {
  let started: DaytonaApiDouble | undefined;
  beforeAll(async () => {
    started = await DaytonaApiDouble.start({ apiKey });
  });
  afterEach(() => {
    const unexpected = started?.unexpected() ?? [];
    started?.reset();
    expect(unexpected).toEqual([]);
  });
  afterAll(async () => {
    await started?.close();
  });
  return {
    get double() {
      if (!started) throw new Error("the Daytona double starts in beforeAll");
      return started;
    },
  };
}
