import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { eventually } from "../support/eventually.js";

/**
 * A local stand-in for the Slack Web API (https://slack.com/api/METHOD), for Bolt's
 * WebClient pointed here through SLACK_API_URL. It answers the methods the bot uses like
 * Slack does (HTTP 200, `{ ok, … }`), records every call in order, and treats any method a
 * test did not allow as unexpected: it answers `ok: false` and `verify()` fails the test.
 */

// biome-ignore lint/suspicious/noExplicitAny: call arguments are asserted on by the tests.
export type SlackArgs = Record<string, any>;

export interface SlackCall {
  method: string;
  args: SlackArgs;
  at: number;
  /** What the double answered (e.g. the ts of a posted message). */
  response?: SlackArgs;
}

export interface SlackUser {
  id: string;
  email?: string;
  name?: string;
  isBot?: boolean;
}

export interface SlackDoubleOptions {
  botToken: string;
  /** The app-level token (xapp-) Socket Mode opens its connection with (`apps.connections.open`). */
  appToken?: string;
  botUserId?: string;
  teamId?: string;
  users?: SlackUser[];
  /** The workspace supports chat.startStream/appendStream/stopStream (newer workspaces). */
  streaming?: boolean;
  /** assistant.threads.setStatus works (the thread is an assistant thread). */
  assistantThreads?: boolean;
}

type Handler = (args: SlackArgs) => SlackArgs;

/**
 * Methods the bot may call in any test: who it is, who wrote, and the 👀 it puts on every
 * message addressed to it (its first sign of life).
 */
const ALWAYS_ALLOWED = ["auth.test", "users.info", "reactions.add"];

export class SlackWebApiDouble {
  readonly calls: SlackCall[] = [];
  readonly unexpected: string[] = [];
  private readonly allowed = new Set<string>(ALWAYS_ALLOWED);
  private readonly handlers = new Map<string, Handler>();
  private tsCounter = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: Required<SlackDoubleOptions>,
  ) {
    this.installDefaultHandlers();
  }

  static async start(options: SlackDoubleOptions): Promise<SlackWebApiDouble> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const double = new SlackWebApiDouble(server, `http://127.0.0.1:${port}/api/`, {
      botUserId: "UAGENTSBOT",
      teamId: "T0001",
      users: [],
      streaming: false,
      assistantThreads: false,
      appToken: "",
      ...options,
    });
    server.on("request", (req, res) => void double.handle(req, res));
    return double;
  }

  get botUserId(): string {
    return this.options.botUserId;
  }

  get teamId(): string {
    return this.options.teamId;
  }

  /** A response_url that lands here, recorded as calls of method `response_url`. */
  get responseUrl(): string {
    return `${this.url}response_url`;
  }

  /** Lets the bot call these methods (besides auth.test and users.info). */
  allow(...methods: string[]): this {
    for (const method of methods) this.allowed.add(method);
    return this;
  }

  /** Replaces a method's answer (e.g. to fail chat.postMessage). */
  on(method: string, handler: Handler): this {
    this.handlers.set(method, handler);
    return this;
  }

  setStreaming(on: boolean): void {
    this.options.streaming = on;
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Forgets recorded calls (between tests), keeping what is allowed. */
  /** The first call of `method`, waiting for it (as `eventually` does) if none has come yet. */
  firstCall(method: string): Promise<SlackCall> {
    return eventually(async () => {
      const [call] = this.callsOf(method);
      if (!call) throw new Error(`Slack has had no ${method} call`);
      return call;
    });
  }

  reset(): void {
    this.calls.length = 0;
    this.unexpected.length = 0;
    this.allowed.clear();
    for (const method of ALWAYS_ALLOWED) this.allowed.add(method);
  }

  /** Throws when the bot called a method the test did not allow. */
  verify(): void {
    if (this.unexpected.length > 0) {
      throw new Error(`Slack Web API double: unexpected calls: ${this.unexpected.join(", ")}`);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private nextTs(): string {
    this.tsCounter += 1;
    return `1800000000.${String(this.tsCounter).padStart(6, "0")}`;
  }

  private installDefaultHandlers(): void {
    const o = this.options;
    this.handlers.set("auth.test", () => ({
      ok: true,
      url: "https://example.slack.com/",
      team: "Example",
      user: "agents",
      team_id: o.teamId,
      user_id: o.botUserId,
      bot_id: "BAGENTS",
    }));
    this.handlers.set("users.info", (args) => {
      const user = o.users.find((candidate) => candidate.id === args.user);
      if (!user) return { ok: false, error: "user_not_found" };
      return {
        ok: true,
        user: {
          id: user.id,
          team_id: o.teamId,
          name: user.name ?? user.id.toLowerCase(),
          real_name: user.name ?? user.id,
          is_bot: user.isBot ?? false,
          profile: { email: user.email, real_name: user.name ?? user.id },
        },
      };
    });
    // users.lookupByEmail: a workspace member by email (users:read.email), as Slack answers it.
    this.handlers.set("users.lookupByEmail", (args) => {
      const user = o.users.find((candidate) => candidate.email === args.email);
      if (!user) return { ok: false, error: "users_not_found" };
      return {
        ok: true,
        user: { id: user.id, team_id: o.teamId, name: user.name ?? user.id, deleted: false },
      };
    });
    this.handlers.set("chat.postMessage", (args) => ({
      ok: true,
      channel: args.channel,
      ts: this.nextTs(),
      message: { text: args.text },
    }));
    this.handlers.set("chat.update", (args) => ({
      ok: true,
      channel: args.channel,
      ts: args.ts,
      text: args.text,
    }));
    // Slack answers already_reacted when the bot's reaction is there; the tests look at the calls.
    this.handlers.set("reactions.add", () => ({ ok: true }));
    this.handlers.set("chat.delete", (args) => ({ ok: true, channel: args.channel, ts: args.ts }));
    this.handlers.set("chat.postEphemeral", () => ({ ok: true, message_ts: this.nextTs() }));
    this.handlers.set("assistant.threads.setStatus", () =>
      o.assistantThreads ? { ok: true } : { ok: false, error: "invalid_thread_ts" },
    );
    this.handlers.set("chat.startStream", (args) =>
      o.streaming
        ? { ok: true, channel: args.channel, ts: this.nextTs() }
        : { ok: false, error: "unknown_method" },
    );
    this.handlers.set("chat.appendStream", (args) => ({
      ok: true,
      channel: args.channel,
      ts: args.ts,
    }));
    this.handlers.set("chat.stopStream", (args) => ({
      ok: true,
      channel: args.channel,
      ts: args.ts,
    }));
    // Where Bolt's respond() posts (a slash command's or a click's response_url).
    this.handlers.set("response_url", () => ({ ok: true }));
    this.handlers.set("views.publish", () => ({ ok: true, view: { id: "V0001" } }));
    this.handlers.set("views.open", () => ({ ok: true, view: { id: "V0002" } }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0] ?? "";
    const args = parseArgs(raw, req.headers["content-type"]);
    const reply = (status: number, body: SlackArgs) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    // apps.connections.* take the app-level token; every other method the bot token.
    const token = method.startsWith("apps.connections.")
      ? this.options.appToken
      : this.options.botToken;
    if (!token || (req.headers.authorization !== `Bearer ${token}` && args.token !== token)) {
      this.calls.push({ method, args, at: Date.now() });
      return reply(200, { ok: false, error: "invalid_auth" });
    }
    const call: SlackCall = { method, args, at: Date.now() };
    this.calls.push(call);
    const handler = this.handlers.get(method);
    if (!this.allowed.has(method) || !handler) {
      this.unexpected.push(method);
      return reply(200, { ok: false, error: "unexpected_in_test" });
    }
    call.response = handler(args);
    reply(200, call.response);
  }
}

/** WebClient posts form fields, with objects (blocks) as JSON strings; some calls send JSON. */
function parseArgs(raw: string, contentType: string | undefined): SlackArgs {
  if (contentType?.includes("application/json")) return raw ? JSON.parse(raw) : {};
  const args: SlackArgs = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = /^[[{]/.test(value) ? safeJson(value) : value;
  }
  return args;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
