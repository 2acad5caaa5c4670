import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSwitchboardError } from "../../core/index.js";
import type { Run } from "../../sessions/index.js";
import { GovernanceFixture } from "../testing/governance-fixture.js";
import { BACKENDS } from "../testing/test-databases.js";

/**
 * Deciding a run an approval budget holds, as any surface does (API, chat buttons): only
 * someone with the right decides; a decision applies once however often it arrives; a
 * run cancelled meanwhile stays cancelled; nobody deciding in time fails the run.
 */
describe.each(BACKENDS)("approvals on %s", (_name, makeBackend) => {
  let f: GovernanceFixture;

  beforeAll(async () => {
    f = await GovernanceFixture.open(makeBackend(), { approvalExpiryMs: 60 * 60_000 });
    await f.agent("analyst", { maxCostUsdPerRun: 2 });
    // team:research's agents may spend $1 a month before an approver must say yes.
    await f.budgets.set(f.who("alice"), {
      scope: "team:research",
      period: "month",
      amount_usd: 1,
      mode: "approval",
    });
  }, 60_000);
  afterAll(() => f.close());

  async function held(input = "draft the board memo"): Promise<Run> {
    const { run } = await f.service.start(f.who("ada"), { agentName: "analyst", input });
    expect(run.status).toBe("needs_approval");
    return run;
  }

  async function refusal(promise: Promise<unknown>) {
    try {
      await promise;
    } catch (error) {
      if (isSwitchboardError(error)) return error;
      throw error;
    }
    throw new Error("expected a refusal");
  }

  const statusOf = async (id: string) => (await f.runs.get(id))?.status;

  it("lists a pending approval to its approvers only, with who asked, the agent and the spend", async () => {
    const run = await held("summarise the Q3 numbers for the board");
    const forAlice = await f.service.pendingApprovals(f.who("alice"));
    expect(forAlice.find((a) => a.id === run.approvalId)).toMatchObject({
      requesterEmail: "ada@example.com",
      agentName: "analyst",
      summary: "summarise the Q3 numbers for the board",
      budgetScope: "team:research",
      limitUsd: 1,
      estimateUsd: 2,
    });
    expect((await f.service.pendingApprovals(f.who("root"))).map((a) => a.id)).toContain(
      run.approvalId,
    );
    expect(await f.service.pendingApprovals(f.who("ada"))).toEqual([]);
    expect(await f.service.pendingApprovals(f.who("mallory"))).toEqual([]);
  });

  it("starts the run on approve, once however often the approval arrives", async () => {
    const run = await held();
    const queued = f.queue.jobs.length;
    const decisions = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        f.service.decideApproval(f.who("alice"), run.approvalId as string, {
          decision: "approve",
          reason: "board deadline",
        }),
      ),
    );
    const applied = decisions.filter((d) => d.status === "fulfilled" && d.value.applied);
    expect(applied).toHaveLength(1);
    expect(f.queue.jobs.length).toBe(queued + 1);
    expect(f.queue.jobs.at(-1)).toEqual({ sessionId: run.sessionId, runId: run.id });
    expect(await statusOf(run.id)).toBe("queued");
    const events = await f.runs.events(run.id);
    expect(events.at(-1)?.data).toMatchObject({
      status: "queued",
      approved_by: "user:alice@example.com",
    });
    // A later click answers the decision that stands and changes nothing.
    const late = await f.service.decideApproval(f.who("root"), run.approvalId as string, {
      decision: "deny",
    });
    expect(late).toMatchObject({ applied: false, approval: { status: "approved" } });
    expect(await statusOf(run.id)).toBe("queued");
    const audit = await f.db.knex("audit_log").where({ target_id: run.approvalId });
    expect(audit.map((a) => a.action).sort()).toEqual(["approval.approved", "approval.requested"]);
    await f.db.knex("budget_reservations").where({ run_id: run.id }).delete();
  });

  it("fails the run on deny, with the approver's reason in its timeline", async () => {
    const run = await held();
    const result = await f.service.decideApproval(f.who("alice"), run.approvalId as string, {
      decision: "deny",
      reason: "not this month",
    });
    expect(result).toMatchObject({ applied: true, runMoved: true });
    const after = await f.runs.get(run.id);
    expect(after?.status).toBe("failed");
    expect(after?.error).toEqual({
      code: "approval_denied",
      message: "Denied by alice@example.com: not this month",
    });
  });

  it("refuses a decision by someone who may not approve, and the requester's own", async () => {
    const run = await held();
    for (const who of ["ada", "bob", "mallory"]) {
      const error = await refusal(
        f.service.decideApproval(f.who(who), run.approvalId as string, { decision: "approve" }),
      );
      expect(error.status).toBe(403);
      expect(error.message).toContain("Only the budget approvers of team:research");
    }
    expect(await statusOf(run.id)).toBe("needs_approval");
    const unknown = await refusal(
      f.service.decideApproval(f.who("alice"), "not-an-id", { decision: "approve" }),
    );
    expect(unknown.status).toBe(404);
    const bad = await refusal(
      f.service.decideApproval(f.who("alice"), run.approvalId as string, {
        decision: "deny",
        raiseUsd: 5,
      }),
    );
    expect(bad.status).toBe(400);
  });

  it("changes nothing when the run was cancelled before the decision", async () => {
    const run = await held();
    await f.service.cancel(f.who("ada"), run.id);
    const result = await f.service.decideApproval(f.who("alice"), run.approvalId as string, {
      decision: "approve",
    });
    expect(result).toMatchObject({ applied: true, runMoved: false });
    expect(await statusOf(run.id)).toBe("cancelled");
    const approval = await f.db.knex("approvals").where({ id: run.approvalId }).first();
    expect(approval.status).toBe("cancelled");
  });

  it("expires an approval nobody decided in time: the run fails and a late approve is refused", async () => {
    const run = await held();
    await f.db
      .knex("approvals")
      .where({ id: run.approvalId })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const late = await refusal(
      f.service.decideApproval(f.who("alice"), run.approvalId as string, { decision: "approve" }),
    );
    expect(late.status).toBe(409);
    expect(late.message).toContain("expired");
    expect((await f.runs.get(run.id))?.error?.code).toBe("approval_expired");

    const other = await held();
    await f.db
      .knex("approvals")
      .where({ id: other.approvalId })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expect(await f.service.expireApprovals()).toBe(1);
    expect(await statusOf(other.id)).toBe("failed");
  });

  it("raises the budget for the period when the approver chooses to", async () => {
    const run = await held();
    await f.service.decideApproval(f.who("alice"), run.approvalId as string, {
      decision: "approve",
      raiseUsd: 10,
    });
    expect(await statusOf(run.id)).toBe("queued");
    const [budget] = await f.budgets.list(f.who("alice"));
    expect(budget?.limitUsd).toBe(11);
    // With the raise, the next run fits without asking.
    const { run: next } = await f.service.start(f.who("bob"), {
      agentName: "analyst",
      input: "and the appendix",
    });
    expect(next.status).toBe("queued");
  });
});
