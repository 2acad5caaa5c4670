import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { expect } from "vitest";
import { z } from "zod";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import {
  type AgentRuntime,
  allowedEnvironment,
  type RuntimeEvent,
  RuntimeRegistry,
  type TurnRequest,
} from "../../runtimes/index.js";
import { eventually } from "../../test/support/eventually.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import type { AgentSource, RunnableAgent } from "../engine/agent-source.js";
import { RunEngine, type RunEngineOptions } from "../engine/run-engine.js";
import { InProcessQueue } from "../queue/in-process-queue.js";
import type { Run } from "../records.js";
import { LocalRunSignals } from "../signals/run-signals.js";
import { RunStore } from "../store/run-store.js";
import { SessionStore } from "../store/session-store.js";

export type Script = (request: TurnRequest<unknown>) => AsyncIterable<RuntimeEvent>;

/** A runtime whose behaviour each test writes, recording every turn it was given. */
export class ScriptedRuntime implements AgentRuntime<{ type: "scripted" }> {
  readonly type = "scripted";
  readonly settings = z.object({ type: z.literal("scripted") });
  readonly received: TurnRequest<unknown>[] = [];
  active = 0;
  maxActive = 0;
  script: Script = echo();

  async *turn(request: TurnRequest<unknown>): AsyncIterable<RuntimeEvent> {
    this.received.push(request);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      yield* this.script(request);
    } finally {
      this.active -= 1;
    }
  }

  reset(): void {
    this.received.length = 0;
    this.maxActive = 0;
    this.script = echo();
  }
}

/** Answers "<input> (turn N)", N carried in the handle, after `delayMs`. */
export function echo(delayMs = 0): Script {
  return async function* (request) {
    const turn = ((request.handle?.turn as number | undefined) ?? 0) + 1;
    yield { type: "handle", handle: { turn } };
    if (delayMs > 0) await sleep(delayMs);
    yield { type: "message_delta", text: `${request.input} ` };
    yield { type: "message_delta", text: `(turn ${turn})` };
  };
}

/** Waits until the run is aborted, then ends as a runtime does when told to stop. */
export const untilAborted: Script = async function* (request) {
  yield { type: "handle", handle: { turn: 1 } };
  yield { type: "status", status: "working" };
  await new Promise((resolve) => request.signal.addEventListener("abort", resolve, { once: true }));
};

/**
 * The runs engine on a PostgreSQL database of its own, with the scripted runtime: agents
 * and people made on demand, engines started with test-sized settings and stopped after
 * each test, runs asked for the way the runs service asks.
 */
export class EngineFixture {
  readonly runtime = new ScriptedRuntime();
  readonly logger = pino({ level: "silent" });
  readonly agents = new Map<string, RunnableAgent>();
  readonly source: AgentSource = {
    byName: async (name) => [...this.agents.values()].find((agent) => agent.name === name),
    byId: async (id) => this.agents.get(id),
  };
  private readonly engines: RunEngine[] = [];

  private constructor(
    private readonly pg: TestDatabase,
    readonly db: Database,
    readonly runs: RunStore,
    readonly sessions: SessionStore,
    /** The person runs are asked for unless a test names another. */
    readonly userId: string,
  ) {}

  static async open(label: string): Promise<EngineFixture> {
    const pg = await createTestDatabase(label);
    const db = await openDatabase({ url: pg.url, dataDir: "" });
    await migrateLatest(db);
    const [user] = await db.knex("users").insert({ email: "ada@example.com" }, ["id"]);
    return new EngineFixture(pg, db, new RunStore(db.knex), new SessionStore(db.knex), user.id);
  }

  async addUser(email: string): Promise<string> {
    const [user] = await this.db.knex("users").insert({ email }, ["id"]);
    return user.id;
  }

  async addAgent(name: string, extra: Partial<RunnableAgent> = {}): Promise<RunnableAgent> {
    const [row] = await this.db.knex("agents").insert(
      {
        name,
        title: name,
        owner: "team:test",
        runtime_type: "scripted",
        manifest: JSON.stringify({ spec: { runtime: { type: "scripted" } } }),
        manifest_digest: name,
      },
      ["id"],
    );
    const agent: RunnableAgent = {
      id: row.id,
      name,
      title: name,
      owner: "team:test",
      state: "enabled",
      stateReason: null,
      retired: false,
      runtime: { type: "scripted" },
      ...extra,
    };
    this.agents.set(agent.id, agent);
    return agent;
  }

  /** An engine with test-sized settings; `options` override them. Stopped by `stopEngines`. */
  startEngine(options: Partial<RunEngineOptions> & { timeoutMs?: number } = {}): RunEngine {
    const { timeoutMs, ...rest } = options;
    const engine = new RunEngine({
      knex: this.db.knex,
      queue: new InProcessQueue(),
      signals: new LocalRunSignals(),
      agents: this.source,
      runtimes: new RuntimeRegistry([this.runtime]),
      // No { env: NAME } allowed and no secret store: every reference is unavailable.
      secrets: () => allowedEnvironment({}, []),
      logger: this.logger,
      concurrency: 4,
      limits: { perUser: 100, perAgent: 100 },
      leaseMs: 3_000,
      maxAttempts: 3,
      retryBackoffMs: 20,
      defaultTimeoutMs: timeoutMs ?? 10_000,
      singleProcess: false,
      ...rest,
    });
    this.engines.push(engine);
    return engine;
  }

  /** Asks for a run the way the runs service does: stored first, then a drain job. */
  async ask(
    engine: RunEngine | undefined,
    agent: RunnableAgent,
    input: string,
    conversation = randomUUID(),
    idempotencyKey?: string,
    userId = this.userId,
  ): Promise<Run> {
    const { run } = await this.runs.create({
      agent: { id: agent.id, runtime: "scripted" },
      userId,
      input,
      conversation: { surface: "api", conversationKey: conversation },
      idempotencyKey,
    });
    await engine?.drain({ sessionId: run.sessionId, runId: run.id });
    return run;
  }

  async finished(runId: string, timeoutMs?: number): Promise<Run> {
    return eventually(async () => {
      const run = await this.runs.get(runId);
      expect(run?.status).toMatch(/succeeded|failed|cancelled/);
      return run as Run;
    }, timeoutMs);
  }

  async stopEngines(): Promise<void> {
    await Promise.all(this.engines.splice(0).map((engine) => engine.stop()));
  }

  async close(): Promise<void> {
    await this.stopEngines();
    await this.db.close();
    await this.pg.drop();
  }
}
