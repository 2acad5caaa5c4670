import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../governance/index.js";
import { GovernanceFixture } from "../../governance/testing/governance-fixture.js";
import { BACKENDS } from "../../governance/testing/test-databases.js";
import {
  allowedEnvironment,
  RUNTIME_ERROR_CODES,
  RuntimeError,
  RuntimeRegistry,
} from "../../runtimes/index.js";
import { eventually } from "../../test/support/eventually.js";
import { InProcessQueue } from "../queue/in-process-queue.js";
import type { Run } from "../records.js";
import { LocalRunSignals } from "../signals/run-signals.js";
import { RunEngine } from "./run-engine.js";

/**
 * Limits that hold while a run runs: its agent's max_cost_usd_per_run and the budgets that
 * apply, whether the cost comes from the runtime's usage report or from the model calls
 * booked by the proxy. A run past one is stopped (the runtime told, as on cancel), fails
 * with the limit in words, and everything it cost is booked to it.
 */
describe.each(BACKENDS)("cost limits while running on %s", (name, makeBackend) => {
  let f: GovernanceFixture;
  let engine: RunEngine;
  const aborted: string[] = [];

  beforeAll(async () => {
    f = await GovernanceFixture.open(makeBackend());
    engine = new RunEngine({
      knex: f.db.knex,
      queue: new InProcessQueue(),
      signals: new LocalRunSignals(),
      agents: f.source,
      runtimes: new RuntimeRegistry([f.runtime]),
      secrets: () => allowedEnvironment({}, []),
      logger: f.runtime && (await import("pino")).default({ level: "silent" }),
      concurrency: 4,
      limits: { perUser: 100, perAgent: 100 },
      leaseMs: 3_000,
      maxAttempts: 1,
      retryBackoffMs: 20,
      defaultTimeoutMs: 20_000,
      singleProcess: name === "PGlite",
      costCheckIntervalMs: 20,
    });
  }, 60_000);
  afterEach(() => f.runtime.reset());
  afterAll(async () => {
    await engine.stop();
    await f.close();
  });

  /** The runtime reports `costs` as usage, then waits to be stopped (or ends if not). */
  function reporting(costs: number[], thenWait: boolean) {
    f.runtime.script = async function* (request) {
      for (const costUsd of costs) {
        yield { type: "usage", usage: { model: "m", inputTokens: 10, outputTokens: 5, costUsd } };
      }
      if (!thenWait) {
        yield { type: "message_delta", text: "done" };
        return;
      }
      await new Promise<void>((resolve) => {
        if (request.signal.aborted) resolve();
        request.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      aborted.push(request.input);
    };
  }

  async function run(agentName: string, input: string): Promise<Run> {
    const { run } = await f.service.start(f.who("ada"), { agentName, input });
    await engine.drain({ sessionId: run.sessionId, runId: run.id });
    return eventually(async () => {
      const now = await f.runs.get(run.id);
      expect(now?.status).toMatch(/succeeded|failed|cancelled/);
      return now as Run;
    });
  }

  it("stops a run whose runtime reports a cost past max_cost_usd_per_run, and books it", async () => {
    await f.agent("pricey", { maxCostUsdPerRun: 0.5 });
    reporting([0.2, 0.45], true);
    const done = await run("pricey", "over by report");
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("cost_limit");
    expect(done.error?.message).toBe(
      'The run was stopped: it cost $0.6500, past the $0.50 "pricey" may spend on one run (max_cost_usd_per_run).',
    );
    expect(aborted).toContain("over by report");
    expect(done.costUsd).toBeCloseTo(0.65, 8);
    expect(await new Ledger(f.db.knex).runCost(done.id)).toBeCloseTo(0.65, 8);
  });

  it("lets a run within its limit finish", async () => {
    await f.agent("thrifty", { maxCostUsdPerRun: 0.5 });
    reporting([0.2, 0.2], false);
    const done = await run("thrifty", "within");
    expect(done.status).toBe("succeeded");
    expect(done.costUsd).toBeCloseTo(0.4, 8);
  });

  it("stops a run whose proxy calls pass the limit between usage reports", async () => {
    const agent = await f.agent("proxied", { maxCostUsdPerRun: 0.5 });
    reporting([0.1], true);
    const { run: started } = await f.service.start(f.who("ada"), {
      agentName: "proxied",
      input: "over by proxy",
    });
    // Drained alongside: the turn runs until it is stopped.
    const draining = engine.drain({ sessionId: started.sessionId, runId: started.id });
    await eventually(async () => expect(f.runtime.received.length).toBe(1));
    // The agent's model calls through the proxy land in the ledger, booked to the run.
    await new Ledger(f.db.knex).book([
      {
        occurredAt: new Date(),
        source: "proxy",
        agentId: agent.id,
        runtime: null,
        model: "gpt-4o",
        userId: f.who("ada").userId,
        teamId: null,
        runId: started.id,
        sessionId: started.sessionId,
        apiKeyId: null,
        inputTokens: 1000,
        outputTokens: 1000,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: 0.45,
        dedupeKey: `proxy-call-${started.id}`,
        metadata: {},
      },
    ]);
    const done = await eventually(async () => {
      const now = await f.runs.get(started.id);
      expect(now?.status).toBe("failed");
      return now as Run;
    });
    expect(done.error?.code).toBe("cost_limit");
    expect(aborted).toContain("over by proxy");
    expect(done.costUsd).toBeCloseTo(0.55, 8);
    await draining;
  });

  it("hands the runtime its agent's per-run limit, and fails the run as cost_limit when the runtime's own cap stops it", async () => {
    await f.agent("capped", { maxCostUsdPerRun: 0.05 });
    const limits: (number | undefined)[] = [];
    const words =
      'The run was stopped: it reached the $0.05 "capped" may spend on one run (max_cost_usd_per_run), and Claude Managed Agents stopped the agent there.';
    f.runtime.script = async function* (request) {
      limits.push(request.maxCostUsdPerRun);
      yield {
        type: "usage",
        usage: { model: "m", inputTokens: 10, outputTokens: 5, costUsd: 0.04 },
      };
      throw new RuntimeError(RUNTIME_ERROR_CODES.costLimit, words);
    };
    const done = await run("capped", "capped by the runtime");
    expect(limits).toEqual([0.05]);
    expect(done.status).toBe("failed");
    expect(done.error).toEqual({ code: "cost_limit", message: words });
    // What it spent before the stop is booked to it.
    await eventually(async () =>
      expect(await new Ledger(f.db.knex).runCost(done.id)).toBeCloseTo(0.04, 8),
    );
  });

  it("stops a run that takes a hard budget past its amount mid-run", async () => {
    await f.agent("budgeted", { maxCostUsdPerRun: 5, owner: "team:lean" });
    reporting([0.4, 0.4], true);
    const { run: started } = await f.service.start(f.who("ada"), {
      agentName: "budgeted",
      input: "over the budget",
    });
    // The budget arrives after the run was admitted: it holds from now on.
    await f.budgets.set(f.who("root"), {
      scope: "team:lean",
      period: "month",
      amount_usd: 0.5,
      mode: "hard",
    });
    await engine.drain({ sessionId: started.sessionId, runId: started.id });
    const done = await eventually(async () => {
      const now = await f.runs.get(started.id);
      expect(now?.status).toBe("failed");
      return now as Run;
    });
    expect(done.error).toEqual({
      code: "cost_limit",
      message:
        "The run was stopped: the budget for team:lean is $0.50 this month, and $0.80 is spent.",
    });
  });
});
