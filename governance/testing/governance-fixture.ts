import pino from "pino";
import type { Database } from "../../app/db/index.js";
import {
  AccessPolicy,
  EmbeddedAuthorizer,
  loadPolicyModel,
  type TupleKey,
  type UserPrincipal,
} from "../../authz/index.js";
import { RuntimeRegistry } from "../../runtimes/index.js";
import type { AgentSource, RunnableAgent } from "../../sessions/engine/agent-source.js";
import type { DrainJob, RunQueue } from "../../sessions/queue/run-queue.js";
import { RunsService, type RunsServiceOptions } from "../../sessions/runs-service.js";
import { LocalRunSignals } from "../../sessions/signals/run-signals.js";
import { RunStore } from "../../sessions/store/run-store.js";
import { ScriptedRuntime } from "../../sessions/testing/engine-fixture.js";
import { Budgets } from "../budgets/budgets.js";
import type { TestBackend } from "./test-databases.js";

/** A queue that only records what was queued: admission is about what gets this far. */
export class RecordingQueue implements RunQueue {
  readonly kind = "in-process" as const;
  readonly jobs: DrainJob[] = [];
  async enqueue(job: DrainJob): Promise<void> {
    this.jobs.push(job);
  }
  async consume(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * The runs service with real admission (embedded OpenFGA evaluator, budgets, approvals) on
 * one database, people and agents made on demand.
 */
export class GovernanceFixture {
  readonly queue = new RecordingQueue();
  readonly runtime = new ScriptedRuntime();
  readonly agents = new Map<string, RunnableAgent>();
  readonly people = new Map<string, UserPrincipal>();
  readonly source: AgentSource = {
    byName: async (name) => [...this.agents.values()].find((a) => a.name === name),
    byId: async (id) => this.agents.get(id),
  };
  service!: RunsService;
  budgets!: Budgets;
  runs!: RunStore;
  access!: AccessPolicy;
  authorizer!: EmbeddedAuthorizer;

  private constructor(
    private readonly backend: TestBackend,
    readonly db: Database,
  ) {}

  static async open(
    backend: TestBackend,
    options: Partial<RunsServiceOptions> = {},
  ): Promise<GovernanceFixture> {
    const db = await backend.open();
    const fixture = new GovernanceFixture(backend, db);
    fixture.authorizer = await EmbeddedAuthorizer.open({
      knex: db.knex,
      modelDsl: loadPolicyModel(),
    });
    fixture.access = new AccessPolicy(fixture.authorizer, 5_000);
    fixture.runs = new RunStore(db.knex);
    fixture.budgets = new Budgets(db.knex, fixture.access);
    fixture.service = new RunsService({
      knex: db.knex,
      agents: fixture.source,
      access: fixture.access,
      runtimes: new RuntimeRegistry([fixture.runtime]),
      queue: fixture.queue,
      signals: new LocalRunSignals(),
      logger: pino({ level: "silent" }),
      ...options,
    });
    await fixture.grant([
      { user: "user:root@example.com", relation: "admin", object: "platform:switchboard" },
      { user: "user:alice@example.com", relation: "admin", object: "team:research" },
      { user: "user:ada@example.com", relation: "member", object: "team:research" },
      { user: "user:bob@example.com", relation: "member", object: "team:research" },
      { user: "platform:switchboard", relation: "platform", object: "team:research" },
    ]);
    for (const name of ["ada", "bob", "root", "alice", "mallory"]) await fixture.person(name);
    return fixture;
  }

  grant(tuples: TupleKey[]): Promise<void> {
    return this.authorizer.write(tuples);
  }

  async person(name: string): Promise<UserPrincipal> {
    const known = this.people.get(name);
    if (known) return known;
    const email = `${name}@example.com`;
    const [row] = await this.db.knex("users").insert({ email }, ["id"]);
    const principal: UserPrincipal = { kind: "user", userId: row.id, email, via: "api" };
    this.people.set(name, principal);
    return principal;
  }

  who(name: string): UserPrincipal {
    const principal = this.people.get(name);
    if (!principal) throw new Error(`no person ${name}`);
    return principal;
  }

  /** An agent of team:research that everyone may run. */
  async agent(name: string, extra: Partial<RunnableAgent> = {}): Promise<RunnableAgent> {
    const owner = extra.owner ?? "team:research";
    const [row] = await this.db.knex("agents").insert(
      {
        name,
        title: name,
        owner,
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
      owner,
      state: "enabled",
      stateReason: null,
      retired: false,
      runtime: { type: "scripted" },
      ...extra,
    };
    this.agents.set(agent.id, agent);
    await this.grant([
      { user: "user:*", relation: "runner", object: `agent:${name}` },
      { user: "team:research", relation: "owner_team", object: `agent:${name}` },
    ]);
    return agent;
  }

  /** Ends a run as the engine would, its runtime having reported `costUsd`. */
  async finish(runId: string, costUsd: number): Promise<void> {
    const run = await this.runs.get(runId);
    if (!run) throw new Error(`no run ${runId}`);
    if (!(await this.runs.startAttempt(runId, run.attempt + 1, "test"))) {
      throw new Error(`run ${runId} did not start`);
    }
    const seq = await this.runs.lastSeq(runId);
    await this.runs.finish(runId, run.attempt + 1, {
      status: "succeeded",
      output: "done",
      events: [{ seq: seq + 1, type: "run.status", data: { status: "succeeded" } }],
      ledger: [
        {
          occurredAt: new Date(),
          source: "runtime",
          agentId: run.agentId,
          runtime: "scripted",
          model: null,
          userId: run.userId,
          teamId: null,
          runId,
          sessionId: run.sessionId,
          apiKeyId: null,
          inputTokens: 0,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd,
          dedupeKey: `test:${runId}`,
          metadata: {},
        },
      ],
    });
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}
