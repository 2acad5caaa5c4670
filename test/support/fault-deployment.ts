import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { eventually } from "./eventually.js";
import { apiRequest, type JsonBody, readJson } from "./http.js";
import { freePort } from "./ports.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import type { PrivatePostgres } from "./private-postgres.js";
import { runSwitchboard, SwitchboardProcess } from "./switchboard-process.js";

export const FAULT_PERSON = "ada@example.com";
export const FAULT_AGENT = "slow-echo";
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

export interface FaultDeploymentOptions {
  /** A private cluster the test may restart, or a database of its own on the shared server. */
  postgres: PrivatePostgres | "shared";
  /** Settings for every process (REDIS_URL, OPENFGA_API_URL…). */
  env?: Record<string, string>;
  /** The demo agent's pause per word (a turn is about 15 words). */
  delayMs?: number;
}

export interface Part {
  kind: "serve" | "worker";
  process: SwitchboardProcess;
  base: string;
}

/** What the database holds about runs, read after the fact: each must have ended once. */
export interface RunRecord {
  id: string;
  status: string;
  closingEvents: number;
  seqsInOrder: boolean;
  ledgerRows: number;
}

/**
 * Switchboard as production runs it, for breaking its dependencies under it: `serve` and
 * `worker` processes on a database of its own, Ada's slowed-down demo agent and her API key.
 * Used by test/faults.test.ts (what a person sees, nothing lost) and bench/faults (how long
 * until service returns).
 */
export class FaultDeployment {
  readonly parts: Part[] = [];
  private key = "";
  private testDatabase: TestDatabase | undefined;

  private constructor(
    readonly databaseUrl: string,
    readonly env: Record<string, string>,
    private readonly dir: string,
  ) {}

  static async start(options: FaultDeploymentOptions): Promise<FaultDeployment> {
    let databaseUrl: string;
    let testDatabase: TestDatabase | undefined;
    if (options.postgres === "shared") {
      testDatabase = await createTestDatabase("faults");
      databaseUrl = testDatabase.url;
    } else {
      databaseUrl = await options.postgres.createDatabase(
        `faults_${randomBytes(4).toString("hex")}`,
      );
    }
    const env = {
      DATABASE_URL: databaseUrl,
      RUN_LEASE_MS: "3000",
      RUN_RETRY_BACKOFF_MS: "200",
      LOG_LEVEL: "warn",
      ...options.env,
    };
    const deployment = new FaultDeployment(
      databaseUrl,
      env,
      mkdtempSync(join(tmpdir(), "switchboard-faults-")),
    );
    deployment.testDatabase = testDatabase;
    const file = join(deployment.dir, "agent.yaml");
    writeFileSync(
      file,
      `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ${FAULT_AGENT}
  title: Slow echo
  owner: user:${FAULT_PERSON}
spec:
  runtime:
    type: demo
    delay_ms: ${options.delayMs ?? 150}
  access:
    view: [user:${FAULT_PERSON}]
    run: [user:${FAULT_PERSON}]
`,
    );
    const applied = await runSwitchboard(["agents", "apply", file], env);
    if (applied.code !== 0) throw new Error(`agents apply failed: ${applied.stderr}`);
    const created = await runSwitchboard(["keys", "create", "--user", FAULT_PERSON], env);
    if (created.code !== 0) throw new Error(`keys create failed: ${created.stderr}`);
    deployment.key = created.stdout.trim().split("\n").at(-1) ?? "";
    return deployment;
  }

  /** A `serve` or a `worker` (with its health port), once /readyz answers 200. */
  async startPart(kind: "serve" | "worker", env: Record<string, string> = {}): Promise<Part> {
    const port = await freePort();
    const args = kind === "serve" ? ["serve"] : ["worker", "--port", String(port)];
    const child = new SwitchboardProcess(args, { ...this.env, ...env, PORT: String(port) });
    const part = { kind, process: child, base: `http://127.0.0.1:${port}` };
    this.parts.push(part);
    await child.waitFor(`${part.base}/readyz`, 120_000);
    return part;
  }

  /** Ada's API key. */
  get apiKey(): string {
    return this.key;
  }

  request(part: Part, method: string, path: string, body?: unknown): Promise<Response> {
    return apiRequest(part.base, this.key, method, path, body);
  }

  /** Starts a run; answers the response as it came (a refusal is for the caller to judge). */
  async tryRun(part: Part, input: string): Promise<{ status: number; body: JsonBody }> {
    const response = await this.request(part, "POST", `/agents/${FAULT_AGENT}/runs`, { input });
    return { status: response.status, body: await readJson(response) };
  }

  async startRun(part: Part, input: string): Promise<string> {
    const { status, body } = await this.tryRun(part, input);
    if (status !== 201) throw new Error(`run refused: ${status} ${JSON.stringify(body)}`);
    return body.id as string;
  }

  async runStatus(part: Part, id: string): Promise<string> {
    return (await readJson(await this.request(part, "GET", `/runs/${id}`))).status as string;
  }

  async waitRunning(part: Part, id: string): Promise<void> {
    await eventually(async () => {
      if ((await this.runStatus(part, id)) !== "running") throw new Error("not running yet");
    }, 60_000);
  }

  /** Waits until every run has ended; answers their statuses. */
  async finished(part: Part, ids: readonly string[], timeoutMs = 180_000): Promise<string[]> {
    return eventually(async () => {
      const statuses = await Promise.all(ids.map((id) => this.runStatus(part, id)));
      for (const [i, status] of statuses.entries())
        if (!FINISHED.has(status)) throw new Error(`${ids[i]} is ${status}`);
      return statuses;
    }, timeoutMs);
  }

  async readiness(part: Part): Promise<{ status: number; body: JsonBody }> {
    const response = await fetch(`${part.base}/readyz`);
    return { status: response.status, body: await readJson(response) };
  }

  /** Waits for /readyz to answer 503 naming `check` as down; answers what it said. */
  async notReady(part: Part, check: string, timeoutMs = 30_000): Promise<JsonBody> {
    return eventually(async () => {
      const { status, body } = await this.readiness(part);
      if (status !== 503 || !String(body.checks?.[check]).startsWith("down"))
        throw new Error(`${part.kind} /readyz: ${status} ${JSON.stringify(body)}`);
      return body;
    }, timeoutMs);
  }

  /** Waits for /readyz to answer 200; answers how long that took. */
  async ready(part: Part, timeoutMs = 120_000): Promise<number> {
    const started = Date.now();
    await eventually(async () => {
      const { status, body } = await this.readiness(part);
      if (status !== 200)
        throw new Error(`${part.kind} /readyz: ${status} ${JSON.stringify(body)}`);
    }, timeoutMs);
    return Date.now() - started;
  }

  /** What the database says of each run: its status, closing events, timeline and ledger. */
  async records(ids: readonly string[]): Promise<RunRecord[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      const { rows: runs } = await client.query<{ id: string; status: string }>(
        "select id, status from runs where id = any($1::uuid[])",
        [ids],
      );
      const { rows: events } = await client.query<{
        run_id: string;
        seq: number;
        type: string;
        data: JsonBody;
      }>(
        "select run_id, seq, type, data from run_events where run_id = any($1::uuid[]) order by run_id, seq",
        [ids],
      );
      const { rows: ledger } = await client.query<{ run_id: string; rows: string }>(
        "select run_id, count(*) as rows from ledger where run_id = any($1::uuid[]) group by run_id",
        [ids],
      );
      return ids.map((id) => {
        const own = events.filter((event) => event.run_id === id);
        return {
          id,
          status: runs.find((run) => run.id === id)?.status ?? "missing",
          closingEvents: own.filter(
            (event) => event.type === "run.status" && FINISHED.has(event.data.status),
          ).length,
          seqsInOrder: own.every((event, i) => event.seq === i + 1),
          ledgerRows: Number(ledger.find((row) => row.run_id === id)?.rows ?? 0),
        };
      });
    } finally {
      await client.end();
    }
  }

  /** Everything a process printed is JSON log lines: no stack trace on stderr. */
  outputProblems(): string[] {
    const problems: string[] = [];
    for (const { kind, process } of this.parts) {
      if (process.stderr) problems.push(`${kind} stderr: ${process.stderr.slice(0, 2_000)}`);
      for (const line of process.stdout.split("\n").filter(Boolean)) {
        try {
          JSON.parse(line);
        } catch {
          problems.push(`${kind} printed: ${line.slice(0, 500)}`);
        }
      }
    }
    return problems;
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((part) => part.process.kill()));
    await this.testDatabase?.drop().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
