import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { apiRequest } from "../../test/support/http.js";
import { freePort } from "../../test/support/ports.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { RoundRobin } from "../../test/support/round-robin.js";
import { runSwitchboard, SwitchboardProcess } from "../../test/support/switchboard-process.js";

export const REDIS_URL = process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379";
export const AGENT_NAME = "bench-agent";
export const USER = "bench@example.com";

export type Mode = "bullmq" | "in-process-pglite" | "in-process-postgres";

/**
 * One Switchboard deployment made of real processes: `serve` alone (the in-process queue,
 * on PGlite or PostgreSQL) or `serve` with `worker`s on PostgreSQL and Redis; with
 * `serves` above 1, that many `serve` processes behind a round-robin balancer (requests
 * go to the balancer). The bench agent is registered (HTTP runtime, pointed at
 * `agentUrl`) and an API key made for it.
 */
export class Deployment {
  readonly workers: SwitchboardProcess[] = [];
  readonly serves: SwitchboardProcess[] = [];
  serve: SwitchboardProcess | undefined;
  balancer: RoundRobin | undefined;
  key = "";
  port = 0;

  private constructor(
    readonly mode: Mode,
    readonly env: Record<string, string>,
    readonly database: TestDatabase | undefined,
    private readonly dir: string,
  ) {}

  static async create(
    mode: Mode,
    agentUrl: string,
    options: { workers?: number; serves?: number; settings?: Record<string, string> } = {},
  ): Promise<Deployment> {
    const dir = mkdtempSync(join(tmpdir(), "switchboard-bench-runs-"));
    const database = mode === "in-process-pglite" ? undefined : await createTestDatabase("bench");
    const env: Record<string, string> = {
      LOG_LEVEL: "warn",
      // One person and one agent run everything here, standing for many: the per-person and
      // per-agent run limits would otherwise measure themselves rather than the engine.
      RUN_MAX_PER_USER: "10000",
      RUN_MAX_PER_AGENT: "10000",
      // The bench's agent listens on this machine, which agents may not reach by default.
      RUNTIME_EGRESS_ALLOW: "127.0.0.1",
      ...(database ? { DATABASE_URL: database.url } : { SWITCHBOARD_DATA_DIR: join(dir, "data") }),
      ...(mode === "bullmq"
        ? { REDIS_URL, REDIS_KEY_PREFIX: `sbbench-${randomBytes(4).toString("hex")}` }
        : {}),
      ...options.settings,
    };
    const deployment = new Deployment(mode, env, database, dir);
    try {
      await deployment.setUp(agentUrl);
      await deployment.startServes(options.serves ?? 1);
      for (let i = 0; i < (options.workers ?? (mode === "bullmq" ? 1 : 0)); i++) {
        await deployment.startWorker();
      }
    } catch (error) {
      await deployment.close();
      throw error;
    }
    return deployment;
  }

  get base(): string {
    return this.balancer?.url ?? `http://127.0.0.1:${this.port}`;
  }

  /** The agent and the key, applied before anything serves (PGlite takes one process at a time). */
  private async setUp(agentUrl: string): Promise<void> {
    const manifest = join(this.dir, "agent.yaml");
    writeFileSync(
      manifest,
      `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ${AGENT_NAME}
  title: Bench agent
  owner: team:bench
spec:
  runtime:
    type: http
    url: ${agentUrl}
  access:
    view: [user:${USER}]
    run: [user:${USER}]
`,
    );
    const applied = await runSwitchboard(["agents", "apply", manifest], this.env);
    if (applied.code !== 0) throw new Error(`agents apply failed: ${applied.stderr}`);
    const created = await runSwitchboard(["keys", "create", "--user", USER], this.env);
    if (created.code !== 0) throw new Error(`keys create failed: ${created.stderr}`);
    this.key = created.stdout.trim().split("\n").at(-1) ?? "";
  }

  private async startServes(count: number): Promise<void> {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const serve = new SwitchboardProcess(["serve"], { ...this.env, PORT: String(port) });
      this.serves.push(serve);
      await serve.waitFor(`http://127.0.0.1:${port}/readyz`, 120_000);
      ports.push(port);
    }
    this.serve = this.serves[0];
    this.port = ports[0] ?? 0;
    if (count > 1) this.balancer = await RoundRobin.start(ports);
  }

  /** A `switchboard worker`, ready (its health port answers /readyz). */
  async startWorker(): Promise<SwitchboardProcess> {
    const port = await freePort();
    const worker = new SwitchboardProcess(["worker", "--port", String(port)], this.env);
    this.workers.push(worker);
    await worker.waitFor(`http://127.0.0.1:${port}/readyz`, 120_000);
    return worker;
  }

  request(method: string, path: string, body?: unknown): Promise<Response> {
    return apiRequest(this.base, this.key, method, path, body);
  }

  /** Starts a run (in a new session, or `sessionId`'s); answers its id and session. */
  async startRun(input: string, sessionId?: string): Promise<{ id: string; session_id: string }> {
    const response = await this.request("POST", `/agents/${AGENT_NAME}/runs`, {
      input,
      ...(sessionId ? { session_id: sessionId } : {}),
    });
    const body = (await response.json()) as { id: string; session_id: string };
    if (response.status !== 201) throw new Error(`start run: ${JSON.stringify(body)}`);
    return body;
  }

  async getRun(
    id: string,
  ): Promise<{ status: string; attempt: number; created_at: string; started_at: string | null }> {
    const response = await this.request("GET", `/runs/${id}`);
    return (await response.json()) as {
      status: string;
      attempt: number;
      created_at: string;
      started_at: string | null;
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.serves, ...this.workers].map((child) => child.kill()));
    await this.balancer?.close();
    await this.database?.drop().catch(() => {});
    const prefix = this.env.REDIS_KEY_PREFIX;
    if (prefix) {
      // What BullMQ left in the shared Redis under this deployment's prefix.
      const redis = new Redis(REDIS_URL);
      for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
        if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
      }
      redis.disconnect();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
