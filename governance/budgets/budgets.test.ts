import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSwitchboardError } from "../../core/index.js";
import {
  type ApproverQuery,
  Ledger,
  type LedgerEntry,
  parseScope,
  periodWindow,
  type ThresholdNotice,
} from "../index.js";
import { GovernanceFixture } from "../testing/governance-fixture.js";
import { BACKENDS } from "../testing/test-databases.js";

/**
 * Budgets as people meet them: set by the right people (400 in words otherwise), listed with
 * their spend, and held at admission for every run: hard refuses naming the budget and its
 * spend, approval holds the run as needs_approval, notify runs and warns; concurrent runs
 * never take a budget past its amount.
 */
describe.each(BACKENDS)("budgets on %s", (_name, makeBackend) => {
  let f: GovernanceFixture;
  /** What approvers were told of notify budgets' thresholds, as a chat surface would be. */
  const told: { notice: ThresholdNotice; approvers: ApproverQuery }[] = [];

  beforeAll(async () => {
    f = await GovernanceFixture.open(makeBackend(), {
      approvalNotifier: {
        requested: async () => {},
        thresholdReached: async (notice, approvers) => {
          told.push({ notice, approvers });
        },
      },
    });
  }, 60_000);
  afterAll(() => f.close());

  async function refusal(promise: Promise<unknown>) {
    try {
      await promise;
    } catch (error) {
      if (isSwitchboardError(error)) return error;
      throw error;
    }
    throw new Error("expected a refusal");
  }

  it("refuses bad budgets in words, and budgets set by people without the right", async () => {
    const root = f.who("root");
    for (const [body, words] of [
      [{ scope: "team", period: "month", amount_usd: 1, mode: "hard" }, /scope must be/],
      [{ scope: "team:x", period: "year", amount_usd: 1, mode: "hard" }, /period must be one of/],
      [{ scope: "team:x", period: "month", amount_usd: -1, mode: "hard" }, /amount_usd must be/],
      [{ scope: "team:x", period: "month", amount_usd: "5", mode: "hard" }, /amount_usd must be/],
      [{ scope: "team:x", period: "month", amount_usd: 1, mode: "stop" }, /mode must be/],
      [{ scope: "user:nobody", period: "month", amount_usd: 1, mode: "hard" }, /by email/],
      [
        { scope: "team:x", period: "month", amount_usd: 1, mode: "notify", thresholds: [0] },
        /thresholds/,
      ],
      [
        { scope: "team:x", period: "month", amount_usd: 1, mode: "hard", extra: 1 },
        /Unknown field "extra"/,
      ],
    ] as const) {
      const error = await refusal(f.budgets.set(root, body));
      expect(error.status).toBe(400);
      expect(error.message).toMatch(words);
    }
    // A team member is not a team admin; a team admin manages only their team's budgets.
    const ada = await refusal(
      f.budgets.set(f.who("ada"), {
        scope: "team:research",
        period: "month",
        amount_usd: 100,
        mode: "notify",
      }),
    );
    expect(ada.status).toBe(403);
    const alice = await refusal(
      f.budgets.set(f.who("alice"), {
        scope: "platform",
        period: "month",
        amount_usd: 100,
        mode: "notify",
      }),
    );
    expect(alice.status).toBe(403);
    const set = await f.budgets.set(f.who("alice"), {
      scope: "team:research",
      period: "day",
      amount_usd: 1000,
      mode: "notify",
    });
    expect(set.created).toBe(true);
    expect(await f.budgets.list(f.who("ada"))).toEqual([]);
    expect((await f.budgets.list(f.who("alice"))).map((b) => b.scope)).toEqual(["team:research"]);
    await f.budgets.delete(f.who("alice"), set.budget.id);
    const audit = await f.db.knex("audit_log").where({ target_id: set.budget.id }).orderBy("id");
    expect(audit.map((a) => a.action)).toEqual(["budget.created", "budget.deleted"]);
    expect(audit[0].actor).toBe("user:alice@example.com");
  });

  it("never lets concurrent runs take a hard budget past its amount, and gives back what ended runs held", async () => {
    await f.agent("counted", { maxCostUsdPerRun: 0.25 });
    const { budget } = await f.budgets.set(f.who("root"), {
      scope: "agent:counted",
      period: "month",
      amount_usd: 1,
      mode: "hard",
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        f.service.start(f.who(i % 2 ? "ada" : "bob"), { agentName: "counted", input: `go ${i}` }),
      ),
    );
    const started = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    expect(started).toHaveLength(4);
    expect(refused).toHaveLength(6);
    const error = (refused[0] as PromiseRejectedResult).reason;
    expect(error.status).toBe(402);
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toContain("The budget for agent:counted is $1.00 this month");
    expect(error.message).toContain("$1.00 held by runs in progress");
    expect(error.details).toMatchObject({ budget_id: budget.id, limit_usd: 1, reserved_usd: 1 });

    // Each run cost $0.10 in the end: $0.40 spent, $0.60 free again, room for two more.
    for (const r of started) {
      const { run } = (r as PromiseFulfilledResult<Awaited<ReturnType<typeof f.service.start>>>)
        .value;
      await f.finish(run.id, 0.1);
      expect((await f.runs.get(run.id))?.costUsd).toBeCloseTo(0.1, 8);
    }
    const [report] = (await f.budgets.list(f.who("root"))).filter((b) => b.id === budget.id);
    expect(report).toMatchObject({ spentUsd: 0.4, reservedUsd: 0, limitUsd: 1 });
    const again = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) =>
        f.service.start(f.who("ada"), { agentName: "counted", input: `again ${i}` }),
      ),
    );
    expect(again.filter((r) => r.status === "fulfilled")).toHaveLength(2);
  });

  // Starting a run reads whether any budget may apply before admission, and skips the
  // budgets transaction when none does: every scope must still be seen, and held exactly.
  it("holds a team's (through its agent's owner), a person's and the platform's hard budget exactly under concurrent starts, and reserves nothing where no budget applies", async () => {
    const tess = await f.person("tess");
    const cases = [
      { scope: "team:tally", owner: "team:tally", people: ["ada", "bob"] },
      { scope: "user:tess@example.com", owner: "team:research", people: ["tess"] },
      { scope: "platform", owner: "team:research", people: ["ada", "tess"] },
    ];
    for (const [n, { scope, owner, people }] of cases.entries()) {
      const agent = await f.agent(`tallied-${n}`, { owner, maxCostUsdPerRun: 0.25 });
      // Room for exactly four runs: the platform's spend this month is every earlier test's.
      const { budget } = await f.budgets.set(f.who("root"), {
        scope,
        period: "day",
        amount_usd: 1000,
        mode: "hard",
      });
      const [standing] = (await f.budgets.list(f.who("root"))).filter((b) => b.id === budget.id);
      await f.budgets.set(f.who("root"), {
        scope,
        period: "day",
        amount_usd: (standing?.spentUsd ?? 0) + 1,
        mode: "hard",
      });
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          f.service.start(f.who(people[i % people.length] as string), {
            agentName: agent.name,
            input: `tally ${i}`,
          }),
        ),
      );
      const refused = results.filter((r) => r.status === "rejected");
      expect(
        results.filter((r) => r.status === "fulfilled"),
        scope,
      ).toHaveLength(4);
      expect(refused, scope).toHaveLength(6);
      const error = (refused[0] as PromiseRejectedResult).reason;
      expect(error.code, scope).toBe("budget_exceeded");
      expect(error.message).toContain(`The budget for ${scope} is`);
      await f.budgets.delete(f.who("root"), budget.id);

      // With the budget gone, a run starts and holds nothing against any budget.
      const free = await f.service.start(tess, { agentName: agent.name, input: "free" });
      expect(free.created).toBe(true);
      expect(await f.db.knex("budget_reservations").where({ run_id: free.run.id })).toEqual([]);
    }
  });

  it("holds a run over an approval budget as needs_approval, not queued", async () => {
    await f.agent("held", { maxCostUsdPerRun: 2 });
    await f.budgets.set(f.who("root"), {
      scope: "user:bob@example.com",
      period: "week",
      amount_usd: 1,
      mode: "approval",
    });
    const queued = f.queue.jobs.length;
    const { run, created } = await f.service.start(f.who("bob"), {
      agentName: "held",
      input: "please summarise the quarterly report",
    });
    expect(created).toBe(true);
    expect(run.status).toBe("needs_approval");
    expect(run.approvalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(f.queue.jobs.length).toBe(queued);
    const approval = await f.db.knex("approvals").where({ id: run.approvalId }).first();
    expect(approval).toMatchObject({
      status: "pending",
      budget_scope: "user:bob@example.com",
      agent_name: "held",
      summary: "please summarise the quarterly report",
    });
    const events = await f.runs.events(run.id);
    expect(events.map((e) => e.data.status)).toEqual(["needs_approval", "waiting"]);
    expect(events[1]?.data).toMatchObject({
      reason: "needs_approval",
      approval_id: run.approvalId,
    });
  });

  it("runs a run over a notify budget and warns once per threshold", async () => {
    await f.agent("noisy", { maxCostUsdPerRun: 0.5, owner: "team:noise" });
    await f.budgets.set(f.who("root"), {
      scope: "team:noise",
      period: "day",
      amount_usd: 1,
      mode: "notify",
    });
    const first = await f.service.start(f.who("ada"), { agentName: "noisy", input: "one" });
    expect(first.run.status).toBe("queued");
    expect(first.budgetWarnings).toEqual([
      "The budget for team:noise is at 50% of $1.00 this day ($0.00 spent).",
    ]);
    const second = await f.service.start(f.who("ada"), { agentName: "noisy", input: "two" });
    expect(second.budgetWarnings[0]).toContain("at 100% of $1.00");
    const third = await f.service.start(f.who("ada"), { agentName: "noisy", input: "three" });
    expect(third.run.status).toBe("queued");
    expect(third.budgetWarnings).toEqual([]);
    // The team's approvers were told each threshold once, and the log keeps both.
    expect(told.map((t) => [t.notice.percent, t.notice.runId, t.approvers.object])).toEqual([
      [50, first.run.id, "team:noise"],
      [100, second.run.id, "team:noise"],
    ]);
    expect(told[0]?.notice).toMatchObject({
      agentName: "noisy",
      requesterEmail: "ada@example.com",
    });
    const audited = await f.db
      .knex("audit_log")
      .where({ action: "budget.threshold_reached", target_id: "team:noise" })
      .orderBy("id");
    const details = (row: { details: unknown }) =>
      (typeof row.details === "string" ? JSON.parse(row.details) : row.details) as {
        percent: number;
      };
    expect(audited.map((row) => details(row).percent)).toEqual([50, 100]);
  });

  it("reads each budget's spend from the running totals, equal to the ledger: teams, renamed agents, late proxy spend and raises", async () => {
    const now = new Date();
    const [team] = await f.db.knex("teams").insert({ slug: "tally", name: "Tally" }, ["id"]);
    const agent = await f.agent("tallied", { owner: "team:tally" });
    // A retired agent of the same name: its spend is still the name's.
    const [retired] = await f.db.knex("agents").insert(
      {
        name: "tallied",
        title: "old",
        owner: "team:tally",
        runtime_type: "scripted",
        manifest: "{}",
        manifest_digest: "old",
        retired_at: now,
      },
      ["id"],
    );
    const row = (key: string, over: Partial<LedgerEntry>): LedgerEntry => ({
      occurredAt: now,
      source: "proxy",
      agentId: agent.id,
      runtime: null,
      model: "gpt-4o",
      userId: f.who("bob").userId,
      teamId: null,
      runId: null,
      sessionId: null,
      apiKeyId: null,
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0.5,
      dedupeKey: key,
      metadata: {},
      ...over,
    });
    const budgets = [];
    for (const [scope, period] of [
      ["team:tally", "month"],
      ["agent:tallied", "week"],
      ["user:bob@example.com", "none"],
      ["platform", "day"],
    ] as const) {
      const { budget } = await f.budgets.set(f.who("root"), {
        scope,
        period,
        amount_usd: 1_000_000,
        mode: "notify",
      });
      budgets.push(budget);
    }
    // A run that spends through the proxy while it runs, ends, and has a call booked late.
    const { run } = await f.service.start(f.who("bob"), { agentName: "tallied", input: "count" });
    const ledger = new Ledger(f.db.knex);
    await ledger.book([row(`${run.id}-call`, { runId: run.id, costUsd: 0.25 })]);
    await f.finish(run.id, 1.5);
    await ledger.book([row(`${run.id}-late`, { runId: run.id, costUsd: 0.125 })]);
    await ledger.book([
      // Booked to the team by a key of its own, with no agent.
      row("tally-key", { agentId: null, teamId: team.id, userId: f.who("ada").userId }),
      row("tally-retired", { agentId: retired.id, costUsd: 2 }),
      // Last year: no period but "none" holds it.
      row("tally-old", { occurredAt: new Date(now.getTime() - 400 * 86_400_000), costUsd: 4 }),
    ]);
    await f.db.knex("budget_raises").insert({
      budget_id: budgets[0]?.id,
      period_start: periodWindow("month", now).from,
      amount_usd: 10,
      raised_by: "user:root@example.com",
    });

    const listed = new Map((await f.budgets.list(f.who("root"), now)).map((b) => [b.id, b]));
    for (const budget of budgets) {
      const { from, to } = periodWindow(budget.period, now);
      const booked = await ledger.spendFor({ scope: parseScope(budget.scope), from, to });
      expect(booked).toBeGreaterThan(0);
      expect({ scope: budget.scope, spent: listed.get(budget.id)?.spentUsd }).toEqual({
        scope: budget.scope,
        spent: booked,
      });
    }
    expect(listed.get(budgets[0]?.id as string)?.limitUsd).toBe(1_000_010);
    // The team's month: the run (0.25 + 1.5 + 0.125), the team's key, the retired agent.
    expect(listed.get(budgets[0]?.id as string)?.spentUsd).toBeCloseTo(4.375, 8);
    for (const budget of budgets) await f.budgets.delete(f.who("root"), budget.id);
  });
});
