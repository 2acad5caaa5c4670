import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { expect } from "vitest";
import { eventually } from "./eventually.js";
import { apiRequest, type JsonBody, readJson } from "./http.js";
import { freePort } from "./ports.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { serveWithAgents } from "./serve-with-agents.js";
import { SwitchboardProcess } from "./switchboard-process.js";

const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

export interface RunsDeploymentOptions {
  /** Agent manifests (YAML, several documents allowed), applied before anything serves. */
  agents: string;
  /** People who get an API key each. */
  people: string[];
  /** Settings for every process. */
  env?: Record<string, string>;
  /** More arguments for `serve` (e.g. `--proxy-config FILE`). */
  serveArgs?: string[];
  /** More settings for the workers only. */
  workerEnv?: Record<string, string>;
  workers: number;
}

/**
 * A deployment the way production runs one: `switchboard serve` taking requests and
 * `switchboard worker`s taking runs through BullMQ, on a PostgreSQL database and Redis
 * key prefix of its own, with agents applied and an API key per person.
 */
export class RunsDeployment {
  readonly workers: SwitchboardProcess[] = [];
  private serve: SwitchboardProcess | undefined;
  private readonly keys = new Map<string, string>();
  base = "";

  private constructor(
    private readonly options: RunsDeploymentOptions,
    readonly database: TestDatabase,
    readonly env: Record<string, string>,
    private readonly dir: string,
  ) {}

  static async start(options: RunsDeploymentOptions): Promise<RunsDeployment> {
    const database = await createTestDatabase("runs_deploy");
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `sbtest-${randomBytes(4).toString("hex")}`,
      LOG_LEVEL: "warn",
      // Its agents are doubles on this machine, which agents may not reach by default.
      RUNTIME_EGRESS_ALLOW: "127.0.0.1",
      ...options.env,
    };
    const dir = mkdtempSync(join(tmpdir(), "switchboard-runs-deploy-"));
    const deployment = new RunsDeployment(options, database, env, dir);
    try {
      await deployment.setUp();
    } catch (error) {
      await deployment.close();
      throw error;
    }
    return deployment;
  }

  private async setUp(): Promise<void> {
    const manifests = join(this.dir, "agents.yaml");
    writeFileSync(manifests, this.options.agents);
    const served = await serveWithAgents(
      manifests,
      this.env,
      this.options.people,
      this.options.serveArgs,
    );
    this.serve = served.serve;
    this.base = served.base;
    for (const [person, key] of served.keys) this.keys.set(person, key);
    for (let i = 0; i < this.options.workers; i++) await this.startWorker();
  }

  /** A `switchboard worker`, once it takes runs. */
  async startWorker(): Promise<SwitchboardProcess> {
    const port = await freePort();
    const worker = new SwitchboardProcess(["worker", "--port", String(port)], {
      ...this.env,
      ...this.options.workerEnv,
      LOG_LEVEL: "info",
    });
    this.workers.push(worker);
    await worker.waitFor(`http://127.0.0.1:${port}/readyz`, 120_000);
    await eventually(async () => expect(worker.stdout).toContain("worker started"), 60_000);
    return worker;
  }

  /** The person's API key (for clients other than the REST API's, e.g. MCP). */
  keyOf(person: string): string {
    return this.keys.get(person) ?? "";
  }

  request(person: string, method: string, path: string, body?: unknown): Promise<Response> {
    return apiRequest(this.base, this.keys.get(person) ?? "", method, path, body);
  }

  /** Starts a run of `agent` for `person`, in a new session. */
  async startRun(person: string, agent: string, input: string): Promise<JsonBody> {
    const response = await this.request(person, "POST", `/agents/${agent}/runs`, { input });
    const body = await readJson(response);
    expect(response.status, JSON.stringify(body)).toBe(201);
    return body;
  }

  async run(person: string, id: string): Promise<JsonBody> {
    return readJson(await this.request(person, "GET", `/runs/${id}`));
  }

  /** Waits until the run has finished, and answers it. */
  async finished(person: string, id: string, timeoutMs = 90_000): Promise<JsonBody> {
    return eventually(async () => {
      const run = await this.run(person, id);
      expect(FINISHED.has(run.status), `${id} is ${run.status}`).toBe(true);
      return run;
    }, timeoutMs);
  }

  /**
   * The run's events over Server-Sent Events (GET /runs/{id}/events), read until one
   * matches `until` (then the stream is dropped) or the run ends; fails after `timeoutMs`.
   */
  async eventsUntil(
    person: string,
    id: string,
    until: (event: { type: string; data: JsonBody }) => boolean,
    timeoutMs = 60_000,
  ): Promise<{ type: string; data: JsonBody }[]> {
    const abort = new AbortController();
    const response = await fetch(`${this.base}/api/v1/runs/${id}/events`, {
      headers: { authorization: `Bearer ${this.keys.get(person)}` },
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
    });
    const events: { type: string; data: JsonBody }[] = [];
    let buffer = "";
    try {
      for await (const chunk of response.body ?? []) {
        buffer += Buffer.from(chunk).toString();
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!type || !data) continue;
          events.push({ type, data: JSON.parse(data) });
          if (until(events.at(-1) as { type: string; data: JsonBody })) return events;
        }
      }
      return events;
    } finally {
      abort.abort();
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.serve, ...this.workers].map((child) => child?.kill()));
    await this.database.drop().catch(() => {});
    const redis = new Redis(REDIS_URL);
    try {
      for await (const keys of redis.scanStream({
        match: `${this.env.REDIS_KEY_PREFIX}:*`,
        count: 500,
      })) {
        if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
      }
    } finally {
      redis.disconnect();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
