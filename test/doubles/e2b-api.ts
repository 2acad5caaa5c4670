import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { type LoopbackServer, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for E2B, shaped from E2B's own API as the `e2b` SDK (v2.51) speaks it:
 * the SDK's generated OpenAPI types (node_modules/e2b/dist/index.d.ts) for the control
 * plane, and its generated protobuf descriptors for envd, the daemon in every sandbox.
 *
 * Two servers, as E2B has two hosts:
 * - `apiUrl` (api.e2b.app): every request carries the account's `X-API-KEY`.
 *   `POST /v2/sandboxes` (NewSandboxV2 → 201 Sandbox), `GET /v2/sandboxes` (ListedSandbox[];
 *   `metadata` is a URL-encoded `k=v&k2=v2` query, `limit`/`nextToken` page, the next
 *   page's token in `X-Next-Token`), `GET /sandboxes/{id}`, `POST /v2/sandboxes/{id}/connect`
 *   (200 running, 201 resumed from paused), `POST /sandboxes/{id}/pause` (204; 409 already
 *   paused), `POST /sandboxes/{id}/timeout`, `DELETE /sandboxes/{id}` (204). Errors are
 *   E2B's `{ code, message }` with the HTTP status.
 * - `sandboxUrl` (sandbox.e2b.app, where the SDK sends envd traffic with `E2b-Sandbox-Id`
 *   and `E2b-Sandbox-Port: 49983` headers and the sandbox's `X-Access-Token`): Connect RPC
 *   in its JSON form, as the SDK's transport sends it (`useBinaryFormat: false`):
 *   `process.Process/Start` server-streaming (enveloped `application/connect+json`: a start
 *   event with the pid, data events with base64 stdout/stderr, an end event with the exit
 *   code, then the end-of-stream envelope), and the unary `SendSignal`, `SendInput`,
 *   `CloseStdin`; envd's HTTP `POST /files?path=` (multipart or octet-stream upload) and
 *   `GET /health`. A sandbox that is paused or gone answers 502, as E2B's edge does.
 *
 * Commands really run, with `bash`, in a temporary folder per sandbox standing for its
 * root: `/home/user` (E2B's default user's home, the default cwd, where relative paths
 * land) is `<root>/home/user`, and every absolute path given to the files API or as a cwd
 * is taken under the root. A command line itself is run as written, so commands should
 * use relative paths or `$HOME`. The process's environment is the sandbox's `envVars` and
 * the command's `envs` over `HOME`, `USER` and `PATH`, nothing from the test process.
 *
 * A request the double does not expect (another route, a field the API does not take, a
 * wrong key or token) is answered 4xx and recorded in `unexpectedRequests`.
 */

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are plain JSON.
type Json = any;

export const ENVD_PORT = 49983;
const ENVD_VERSION = "0.5.7";

interface RunningProcess {
  pid: number;
  child: ChildProcess;
  cmd: string;
  /** How it ended: `killed` when a SendSignal ended it. */
  outcome?: "exited" | "killed" | undefined;
  /** For a command held before it spawned: ends it as killed. */
  cancelHeld?: () => void;
}

export interface DoubleSandbox {
  id: string;
  templateId: string;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  state: "running" | "paused";
  startedAt: Date;
  endAt: Date;
  autoPause: boolean;
  cpuCount: number;
  memoryMB: number;
  network: Json;
  allowInternetAccess: boolean | undefined;
  envdAccessToken: string;
  root: string;
  processes: Map<number, RunningProcess>;
  /** Every command line started in it, in order. */
  commands: string[];
  /** Every pid sent a signal, with the signal's name. */
  signals: { pid: number; signal: string }[];
  pauses: number;
  resumes: number;
}

const CREATE_FIELDS = new Set([
  "templateID",
  "metadata",
  "mcp",
  "envVars",
  "timeout",
  "allow_internet_access",
  "network",
  "iam",
  "autoPause",
  "autoPauseMemory",
  "autoResume",
  "volumeMounts",
]);

export interface E2bDoubleOptions {
  apiKey: string;
  /** Templates the account has, with the size E2B gives their sandboxes. */
  templates?: Record<string, { cpuCount: number; memoryMB: number }>;
  /** The most a page holds whatever `limit` asks (E2B's is 100), so tests can page with few sandboxes. */
  pageSize?: number;
}

export class E2bApiDouble {
  readonly apiKey: string;
  readonly unexpectedRequests: string[] = [];
  /** Every control-plane call as `METHOD path`, in order. */
  readonly calls: string[] = [];
  /** Every create request's body. */
  readonly created: Json[] = [];
  readonly sandboxes = new Map<string, DoubleSandbox>();
  private readonly templates: Record<string, { cpuCount: number; memoryMB: number }>;
  private readonly baseDir: string;
  private readonly pageSize: number;
  private api!: LoopbackServer;
  private envd!: LoopbackServer;
  private nextPid = 1000;
  private nextSandbox = 0;
  /** Every command started, in every sandbox, in arrival order. */
  readonly started: { sandboxId: string; cmd: string }[] = [];
  /** Every envd request's headers, as JSON (for tests that look for a leaked key). */
  readonly envdHeaders: string[] = [];
  /** SendSignal requests received, in every sandbox. */
  kills = 0;
  /** Answer the next this many `Start` requests as an unavailable envd would (HTTP 503). */
  failStarts = 0;
  /** While set, a started command waits (its pid already sent) until `release()` or a kill. */
  private held: { run: () => void; cancel: () => void }[] | undefined;
  /** Answer the next `n` create requests with this status (a busy or failing E2B). */
  failCreates: { status: number; count: number; message?: string } | undefined;

  private constructor(options: E2bDoubleOptions) {
    this.apiKey = options.apiKey;
    this.templates = options.templates ?? { base: { cpuCount: 2, memoryMB: 512 } };
    this.pageSize = options.pageSize ?? 100;
    this.baseDir = mkdtempSync(join(tmpdir(), "e2b-double-"));
  }

  static async start(options: E2bDoubleOptions): Promise<E2bApiDouble> {
    const double = new E2bApiDouble(options);
    double.api = await startLoopbackServer((req, res) => double.guard(req, res, "api"));
    double.envd = await startLoopbackServer((req, res) => double.guard(req, res, "envd"));
    return double;
  }

  /** The control plane's address: the provider's `api_url`. */
  get apiUrl(): string {
    return this.api.url;
  }

  /** envd's address for every sandbox: the provider's `sandbox_url`. */
  get sandboxUrl(): string {
    return this.envd.url;
  }

  /** E2B deleted or expired it: gone from the API and its processes killed. */
  forget(sandboxId: string): void {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return;
    this.killAll(sandbox);
    rmSync(sandbox.root, { recursive: true, force: true });
    this.sandboxes.delete(sandboxId);
  }

  /** A sandbox's home folder on this machine (`/home/user` inside it). */
  homeOf(sandboxId: string): string {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) throw new Error(`no sandbox ${sandboxId}`);
    return join(sandbox.root, "home", "user");
  }

  /** From now on, commands wait after starting until `release()` (or a kill). */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const command of waiting) command.run();
  }

  /** Forgets every sandbox and what was recorded; stops holding and failing. */
  reset(): void {
    this.release();
    for (const id of [...this.sandboxes.keys()]) this.forget(id);
    this.started.length = 0;
    this.created.length = 0;
    this.calls.length = 0;
    this.kills = 0;
    this.failStarts = 0;
  }

  async close(): Promise<void> {
    for (const sandbox of this.sandboxes.values()) this.killAll(sandbox);
    await Promise.all([this.api.close(), this.envd.close()]);
    rmSync(this.baseDir, { recursive: true, force: true });
  }

  private guard(req: IncomingMessage, res: ServerResponse, side: "api" | "envd"): void {
    const handle = side === "api" ? this.handleApi(req, res) : this.handleEnvd(req, res);
    handle.catch((error: unknown) => {
      this.unexpectedRequests.push(`double failed on ${req.method} ${req.url}: ${error}`);
      if (!res.headersSent) apiError(res, 500, "internal error in the double");
      else res.end();
    });
  }

  // ---- the control plane ----------------------------------------------------------------

  private async handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://double");
    const route = `${req.method} ${url.pathname}`;
    this.calls.push(route);
    if (req.headers["x-api-key"] !== this.apiKey) {
      this.unexpectedRequests.push(`${route} without the account's X-API-KEY`);
      return apiError(res, 401, "Invalid API key");
    }
    this.expireLapsed();
    const raw = await readAll(req);
    let body: Json;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        this.unexpectedRequests.push(`${route} with a body that is not JSON`);
        return apiError(res, 400, "Request body is not JSON");
      }
    }
    if (route === "POST /v2/sandboxes") return this.create(body, res);
    if (route === "GET /v2/sandboxes") return this.list(url.searchParams, res);
    const match = /^\/(v2\/)?sandboxes\/([^/]+)(\/[a-z]+)?$/.exec(url.pathname);
    const known = match
      ? {
          "GET /sandboxes/:id": !match[1] && !match[3],
          "DELETE /sandboxes/:id": !match[1] && !match[3],
          "POST /v2/sandboxes/:id/connect": !!match[1] && match[3] === "/connect",
          "POST /sandboxes/:id/pause": !match[1] && match[3] === "/pause",
          "POST /sandboxes/:id/timeout": !match[1] && match[3] === "/timeout",
        }
      : {};
    const name = `${req.method} /${match?.[1] ?? ""}sandboxes/:id${match?.[3] ?? ""}`;
    if (!match || !(known as Record<string, boolean>)[name]) {
      this.unexpectedRequests.push(route);
      return apiError(res, 404, `No route ${route}`);
    }
    const id = decodeURIComponent(match[2] ?? "");
    const sandbox = this.sandboxes.get(id);
    if (!sandbox) return apiError(res, 404, `sandbox "${id}" not found`);
    switch (name) {
      case "GET /sandboxes/:id":
        return json(res, 200, {
          ...this.listed(sandbox),
          envdAccessToken: sandbox.envdAccessToken,
        });
      case "DELETE /sandboxes/:id":
        this.forget(id);
        res.writeHead(204).end();
        return;
      case "POST /v2/sandboxes/:id/connect":
        return this.connect(sandbox, body ?? {}, res);
      case "POST /sandboxes/:id/pause":
        if (sandbox.state === "paused")
          return apiError(res, 409, `sandbox "${id}" is already paused`);
        this.pause(sandbox);
        res.writeHead(204).end();
        return;
      default: {
        const timeout = body?.timeout;
        if (!Number.isInteger(timeout) || timeout < 0) {
          this.unexpectedRequests.push(`${route} with ${JSON.stringify(body)}`);
          return apiError(res, 400, "timeout must be a whole number of seconds");
        }
        sandbox.endAt = new Date(Date.now() + timeout * 1000);
        res.writeHead(204).end();
      }
    }
  }

  private create(body: Json, res: ServerResponse) {
    const extra = Object.keys(body ?? {}).filter((key) => !CREATE_FIELDS.has(key));
    if (typeof body?.templateID !== "string" || extra.length > 0) {
      this.unexpectedRequests.push(`POST /v2/sandboxes with ${JSON.stringify(body)}`);
      return apiError(res, 400, "templateID is required; unknown fields refused");
    }
    const metadata = body.metadata ?? {};
    if (Object.values(metadata).some((value) => typeof value !== "string")) {
      this.unexpectedRequests.push(`POST /v2/sandboxes with metadata ${JSON.stringify(metadata)}`);
      return apiError(res, 400, "metadata values must be strings");
    }
    this.created.push(body);
    if (this.failCreates && this.failCreates.count > 0) {
      this.failCreates.count--;
      return apiError(
        res,
        this.failCreates.status,
        this.failCreates.message ?? "Failed to place sandbox",
      );
    }
    const size = this.templates[body.templateID];
    if (!size) return apiError(res, 404, `template '${body.templateID}' not found`);
    const id = `i${(++this.nextSandbox).toString(36)}${randomBytes(6).toString("hex")}`;
    const root = join(this.baseDir, id);
    mkdirSync(join(root, "home", "user"), { recursive: true });
    const now = new Date();
    const sandbox: DoubleSandbox = {
      id,
      templateId: body.templateID,
      metadata,
      envVars: body.envVars ?? {},
      state: "running",
      startedAt: now,
      endAt: new Date(now.getTime() + (body.timeout ?? 300) * 1000),
      autoPause: body.autoPause === true,
      cpuCount: size.cpuCount,
      memoryMB: size.memoryMB,
      network: body.network,
      allowInternetAccess: body.allow_internet_access,
      envdAccessToken: randomBytes(16).toString("hex"),
      root,
      processes: new Map(),
      commands: [],
      signals: [],
      pauses: 0,
      resumes: 0,
    };
    this.sandboxes.set(id, sandbox);
    json(res, 201, this.described(sandbox));
  }

  private list(query: URLSearchParams, res: ServerResponse) {
    const allowed = new Set([
      "metadata",
      "state",
      "limit",
      "nextToken",
      "order",
      "startedAfter",
      "template",
    ]);
    for (const key of query.keys()) {
      if (!allowed.has(key)) {
        this.unexpectedRequests.push(`GET /v2/sandboxes?${query}`);
        return apiError(res, 400, `unknown query parameter ${key}`);
      }
    }
    // `metadata` is itself a query string whose keys and values were URL-encoded once more.
    const wanted = [...new URLSearchParams(query.get("metadata") ?? "")].map(
      ([key, value]) => [decodeURIComponent(key), decodeURIComponent(value)] as const,
    );
    const states = (query.get("state") ?? "running,paused").split(",");
    const limit = Number(query.get("limit") ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return apiError(res, 400, "limit must be between 1 and 100");
    }
    const matching = [...this.sandboxes.values()]
      .filter((sandbox) => states.includes(sandbox.state))
      .filter((sandbox) => wanted.every(([key, value]) => sandbox.metadata[key] === value))
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.id < b.id ? -1 : 1));
    const token = query.get("nextToken");
    const from = token ? Number(Buffer.from(token, "base64url").toString("utf8")) : 0;
    if (!Number.isInteger(from) || from < 0) return apiError(res, 400, "invalid nextToken");
    const size = Math.min(limit, this.pageSize);
    const page = matching.slice(from, from + size);
    const headers: Record<string, string> = {
      "X-Total-Running": String(matching.filter((s) => s.state === "running").length),
    };
    if (from + size < matching.length) {
      headers["X-Next-Token"] = Buffer.from(String(from + size)).toString("base64url");
    }
    json(
      res,
      200,
      page.map((sandbox) => this.listed(sandbox)),
      headers,
    );
  }

  private connect(sandbox: DoubleSandbox, body: Json, res: ServerResponse) {
    const extra = Object.keys(body).filter((key) => key !== "timeout" && key !== "memory");
    if (extra.length > 0) {
      this.unexpectedRequests.push(`POST /v2/sandboxes/{id}/connect with ${JSON.stringify(body)}`);
      return apiError(res, 400, "unknown fields");
    }
    const timeout = typeof body.timeout === "number" ? body.timeout : 300;
    // Connect only ever extends the sandbox's time to live.
    const endAt = new Date(Date.now() + timeout * 1000);
    if (endAt > sandbox.endAt) sandbox.endAt = endAt;
    const resumed = sandbox.state === "paused";
    if (resumed) {
      sandbox.state = "running";
      sandbox.resumes++;
    }
    json(res, resumed ? 201 : 200, this.described(sandbox));
  }

  private pause(sandbox: DoubleSandbox): void {
    // A paused sandbox keeps its files; the double does not keep processes' memory.
    this.killAll(sandbox);
    sandbox.state = "paused";
    sandbox.pauses++;
  }

  /** E2B's own timeout: a sandbox past its end is paused (autoPause) or killed. */
  private expireLapsed(): void {
    const now = Date.now();
    for (const sandbox of [...this.sandboxes.values()]) {
      if (sandbox.state !== "running" || sandbox.endAt.getTime() > now) continue;
      if (sandbox.autoPause) this.pause(sandbox);
      else this.forget(sandbox.id);
    }
  }

  private described(sandbox: DoubleSandbox): Json {
    return {
      sandboxID: sandbox.id,
      templateID: sandbox.templateId,
      clientID: "6532622b",
      envdVersion: ENVD_VERSION,
      envdAccessToken: sandbox.envdAccessToken,
      domain: null,
      trafficAccessToken: null,
    };
  }

  private listed(sandbox: DoubleSandbox): Json {
    return {
      sandboxID: sandbox.id,
      templateID: sandbox.templateId,
      clientID: "6532622b",
      cpuCount: sandbox.cpuCount,
      memoryMB: sandbox.memoryMB,
      diskSizeMB: 10240,
      envdVersion: ENVD_VERSION,
      metadata: sandbox.metadata,
      startedAt: sandbox.startedAt.toISOString(),
      endAt: sandbox.endAt.toISOString(),
      state: sandbox.state,
    };
  }

  // ---- envd, inside each sandbox ---------------------------------------------------------

  private async handleEnvd(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://double");
    const route = `${req.method} ${url.pathname}`;
    this.envdHeaders.push(JSON.stringify(req.headers));
    const id = req.headers["e2b-sandbox-id"];
    if (typeof id !== "string" || req.headers["e2b-sandbox-port"] !== String(ENVD_PORT)) {
      this.unexpectedRequests.push(`envd ${route} without E2b-Sandbox-Id/Port headers`);
      return apiError(res, 400, "missing sandbox headers");
    }
    this.expireLapsed();
    const sandbox = this.sandboxes.get(id);
    if (sandbox?.state !== "running") {
      await readAll(req);
      return json(res, 502, { code: 502, message: "The sandbox was not found", sandboxId: id });
    }
    if (req.headers["x-access-token"] !== sandbox.envdAccessToken) {
      this.unexpectedRequests.push(`envd ${route} without the sandbox's X-Access-Token`);
      return apiError(res, 401, "invalid access token");
    }
    const raw = await readAll(req);
    if (route === "GET /health") {
      res.writeHead(204).end();
      return;
    }
    if (route === "POST /files") return this.upload(sandbox, req, url, raw, res);
    if (route === "POST /process.Process/Start") return this.start(sandbox, req, raw, res);
    const unary: Record<string, (body: Json) => Json> = {
      "POST /process.Process/SendSignal": (body) => this.signal(sandbox, body),
      "POST /process.Process/SendInput": (body) => this.input(sandbox, body),
      "POST /process.Process/CloseStdin": (body) => this.closeStdin(sandbox, body),
    };
    const method = unary[route];
    if (!method || !String(req.headers["content-type"]).startsWith("application/json")) {
      this.unexpectedRequests.push(`envd ${route} (${req.headers["content-type"]})`);
      return connectError(res, "unimplemented", `${url.pathname} is not served`);
    }
    let answer: Json;
    try {
      answer = method(JSON.parse(raw.toString("utf8")));
    } catch (error) {
      if (error instanceof RpcError) return connectError(res, error.code, error.message);
      throw error;
    }
    json(res, 200, answer);
  }

  private start(sandbox: DoubleSandbox, req: IncomingMessage, raw: Buffer, res: ServerResponse) {
    if (req.headers["content-type"] !== "application/connect+json") {
      this.unexpectedRequests.push(`Start with content-type ${req.headers["content-type"]}`);
      return connectError(res, "invalid_argument", "expected application/connect+json");
    }
    const [message] = readEnvelopes(raw);
    const request: Json = message === undefined ? {} : JSON.parse(message.toString("utf8"));
    const config = request.process ?? {};
    if (typeof config.cmd !== "string" || request.pty !== undefined) {
      this.unexpectedRequests.push(`Start with ${JSON.stringify(request)}`);
      return connectError(res, "invalid_argument", "process.cmd is required; no pty here");
    }
    const home = join(sandbox.root, "home", "user");
    const cwd =
      typeof config.cwd === "string" && config.cwd ? this.inside(sandbox, config.cwd) : home;
    if (!cwd)
      return connectError(res, "invalid_argument", `cwd ${config.cwd} is outside the sandbox`);
    if (this.failStarts > 0) {
      this.failStarts--;
      return connectError(res, "unavailable", "envd is not available right now");
    }
    mkdirSync(cwd, { recursive: true });
    const pid = this.nextPid++;
    const cmd = String(config.args?.at(-1) ?? config.cmd);
    sandbox.commands.push(cmd);
    this.started.push({ sandboxId: sandbox.id, cmd });
    res.writeHead(200, { "Content-Type": "application/connect+json" });
    const send = (event: Json) => res.write(envelope(0, { event }));
    send({ start: { pid } });
    const run = () => this.spawnProcess(sandbox, pid, cmd, config, request, req, res, send);
    if (!this.held) return run();
    // Held: the pid is known (so it can be killed), the process not yet spawned.
    const placeholder = {
      pid,
      cmd,
      child: undefined as unknown as ChildProcess,
      outcome: undefined,
    } as RunningProcess;
    placeholder.cancelHeld = () => {
      sandbox.processes.delete(pid);
      placeholder.outcome = "killed";
      send({ end: { exitCode: -1, exited: false, status: "signal: killed" } });
      res.end(envelope(2, {}));
    };
    sandbox.processes.set(pid, placeholder);
    this.held.push({
      run: () => {
        if (placeholder.outcome !== "killed") run();
      },
      cancel: () => placeholder.cancelHeld?.(),
    });
  }

  private spawnProcess(
    sandbox: DoubleSandbox,
    pid: number,
    cmd: string,
    config: Json,
    request: Json,
    req: IncomingMessage,
    res: ServerResponse,
    send: (event: Json) => void,
  ) {
    const home = join(sandbox.root, "home", "user");
    const cwd =
      typeof config.cwd === "string" && config.cwd ? this.inside(sandbox, config.cwd) : home;
    const child = spawn(config.cmd, config.args ?? [], {
      cwd,
      detached: true,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        USER: "user",
        ...sandbox.envVars,
        ...(config.envs ?? {}),
      },
      stdio: [request.stdin === true ? "pipe" : "ignore", "pipe", "pipe"],
    });
    const running: RunningProcess = { pid, child, cmd };
    sandbox.processes.set(pid, running);
    child.stdout?.on("data", (chunk: Buffer) =>
      send({ data: { stdout: chunk.toString("base64") } }),
    );
    child.stderr?.on("data", (chunk: Buffer) =>
      send({ data: { stderr: chunk.toString("base64") } }),
    );
    const interval = Number(req.headers["keepalive-ping-interval"] ?? 0);
    const keepalive =
      interval > 0 ? setInterval(() => send({ keepalive: {} }), interval * 1000) : undefined;
    const deadlineMs = Number(req.headers["connect-timeout-ms"] ?? 0);
    let timedOut = false;
    const deadline =
      deadlineMs > 0
        ? setTimeout(() => {
            timedOut = true;
            killGroup(child);
          }, deadlineMs)
        : undefined;
    child.on("error", (error) => {
      clearInterval(keepalive);
      clearTimeout(deadline);
      sandbox.processes.delete(pid);
      res.end(envelope(2, { error: { code: "invalid_argument", message: String(error) } }));
    });
    child.on("close", (code, signal) => {
      clearInterval(keepalive);
      clearTimeout(deadline);
      sandbox.processes.delete(pid);
      running.outcome ??= "exited";
      if (timedOut) {
        res.end(
          envelope(2, { error: { code: "deadline_exceeded", message: "deadline exceeded" } }),
        );
        return;
      }
      const exitCode = code ?? -1;
      send({
        end: {
          exitCode,
          exited: code !== null,
          status: signal
            ? `signal: ${signal === "SIGKILL" ? "killed" : signal}`
            : `exit status ${exitCode}`,
        },
      });
      res.end(envelope(2, {}));
    });
  }

  private selected(sandbox: DoubleSandbox, body: Json): RunningProcess {
    const pid = body?.process?.pid;
    const running = typeof pid === "number" ? sandbox.processes.get(pid) : undefined;
    if (!running) throw new RpcError("not_found", `process with pid ${pid} not found`);
    return running;
  }

  private signal(sandbox: DoubleSandbox, body: Json): Json {
    const name = body?.signal;
    if (name !== "SIGNAL_SIGKILL" && name !== "SIGNAL_SIGTERM") {
      this.unexpectedRequests.push(`SendSignal with ${JSON.stringify(body)}`);
      throw new RpcError("invalid_argument", `unknown signal ${name}`);
    }
    sandbox.signals.push({ pid: body?.process?.pid, signal: name });
    this.kills++;
    const running = this.selected(sandbox, body);
    if (running.cancelHeld) {
      running.cancelHeld();
      return {};
    }
    running.outcome = "killed";
    killGroup(running.child, name === "SIGNAL_SIGKILL" ? "SIGKILL" : "SIGTERM");
    return {};
  }

  private input(sandbox: DoubleSandbox, body: Json): Json {
    const running = this.selected(sandbox, body);
    const data = body?.input?.stdin;
    if (typeof data !== "string" || !running.child.stdin) {
      throw new RpcError("failed_precondition", "stdin is not open for this process");
    }
    running.child.stdin.write(Buffer.from(data, "base64"));
    return {};
  }

  private closeStdin(sandbox: DoubleSandbox, body: Json): Json {
    const running = this.selected(sandbox, body);
    running.child.stdin?.end();
    return {};
  }

  private async upload(
    sandbox: DoubleSandbox,
    req: IncomingMessage,
    url: URL,
    raw: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const type = String(req.headers["content-type"] ?? "");
    const files: { path: string; data: Buffer }[] = [];
    const given = url.searchParams.get("path");
    if (type.startsWith("application/octet-stream")) {
      if (!given) return apiError(res, 400, "path is required");
      files.push({ path: given, data: raw });
    } else if (type.startsWith("multipart/form-data")) {
      const form = await new Response(raw, { headers: { "content-type": type } }).formData();
      for (const entry of form.getAll("file")) {
        if (typeof entry === "string") continue;
        const path = given ?? entry.name;
        files.push({ path, data: Buffer.from(await entry.arrayBuffer()) });
      }
    }
    if (files.length === 0) {
      this.unexpectedRequests.push(`POST /files with ${type} and no file`);
      return apiError(res, 400, "no file in the upload");
    }
    const written = [];
    for (const file of files) {
      const absolute = posix.isAbsolute(file.path)
        ? file.path
        : posix.join("/home/user", file.path);
      const target = this.inside(sandbox, absolute);
      if (!target) return apiError(res, 400, `path ${file.path} is outside the sandbox`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.data);
      written.push({ name: posix.basename(absolute), type: "file", path: absolute });
    }
    json(res, 200, written);
  }

  /** A path inside the sandbox, as a path on this machine; undefined when it climbs out. */
  private inside(sandbox: DoubleSandbox, path: string): string | undefined {
    const absolute = posix.normalize(
      posix.isAbsolute(path) ? path : posix.join("/home/user", path),
    );
    if (absolute.split("/").includes("..")) return undefined;
    return join(sandbox.root, absolute);
  }

  private killAll(sandbox: DoubleSandbox): void {
    for (const running of sandbox.processes.values()) {
      if (running.cancelHeld) running.cancelHeld();
      else killGroup(running.child);
    }
    sandbox.processes.clear();
  }
}

class RpcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGKILL"): void {
  if (!child || child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Connect's envelope: a flags byte (2 = end of stream), a 4-byte big-endian length, the message. */
function envelope(flags: number, message: Json): Buffer {
  const data = Buffer.from(JSON.stringify(message), "utf8");
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

function readEnvelopes(raw: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at + 5 <= raw.length; ) {
    const length = raw.readUInt32BE(at + 1);
    messages.push(raw.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

const CONNECT_STATUS: Record<string, number> = {
  invalid_argument: 400,
  failed_precondition: 400,
  unauthenticated: 401,
  not_found: 404,
  unimplemented: 501,
  unavailable: 503,
};

function connectError(res: ServerResponse, code: string, message: string): void {
  json(res, CONNECT_STATUS[code] ?? 500, { code, message });
}

function apiError(res: ServerResponse, status: number, message: string): void {
  json(res, status, { code: status, message });
}

function json(
  res: ServerResponse,
  status: number,
  body: Json,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
