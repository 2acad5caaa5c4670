import type { Knex } from "knex";
import { type AccessPolicy, actorOf, PLATFORM, type Principal } from "../../authz/index.js";
import {
  badRequest,
  conflict,
  forbidden,
  isUuid,
  notFound,
  unstorableTextProblem,
} from "../../core/index.js";
import { AuditLog } from "../audit/audit-log.js";
import type { BudgetStanding } from "../budgets/budget-admission.js";
import { periodWindow } from "../budgets/periods.js";
import { type Approval, type ApprovalRow, approvalFromRow, summaryOf } from "./approval.js";

/**
 * What a decision does to the run it holds; the runs service provides it (governance does
 * not know how runs are queued). Each answers false when the run is no longer held for this
 * approval (it was cancelled): then nothing changes.
 */
export interface HeldRuns {
  /** Admits the run again, past the approved budget, and queues it. */
  approved(approval: Approval): Promise<boolean>;
  /** Fails the run with the error given (denied, or expired). */
  refused(approval: Approval, error: { code: string; message: string }): Promise<boolean>;
}

/** Tells approvers that a decision waits (Slack DM, a channel, Teams…). */
export interface ApprovalNotifier {
  requested(approval: Approval, approvers: ApproverQuery): Promise<void>;
  /**
   * A notify budget passed one of its thresholds (once per threshold and period): the
   * budget's approvers are told in words, with nothing to decide.
   */
  thresholdReached?(notice: ThresholdNotice, approvers: ApproverQuery): Promise<void>;
}

/** What a notify budget's approvers are told when a run takes it past a threshold. */
export interface ThresholdNotice {
  budgetScope: string;
  percent: number;
  /** In words, naming the budget, its limit and what is spent. */
  message: string;
  runId: string;
  requesterEmail: string;
  agentName: string;
}

/** Who may decide on an approval: asked per person by the notifier, never cached. */
export interface ApproverQuery {
  /** The OpenFGA relation and object that make someone an approver. */
  relation: string;
  object: string;
}

export interface DecisionInput {
  decision: "approve" | "deny";
  reason?: string | undefined;
  /** Approve only: raise the budget by this much for the current period. */
  raiseUsd?: number | undefined;
}

export interface DecisionResult {
  approval: Approval;
  /** false: the approval was decided already (by this click before, or another approver). */
  applied: boolean;
  /** false: the run had been cancelled meanwhile, and nothing changed. */
  runMoved: boolean;
}

export interface ApprovalsOptions {
  knex: Knex;
  access: AccessPolicy;
  /** How long an approver has to decide (APPROVAL_EXPIRY_MINUTES). */
  expiryMs: number;
  notifier?: ApprovalNotifier | undefined;
}

const MAX_REASON_CHARS = 1000;

/**
 * Approvals of runs that would take an `approval` budget past its limit: requested when the
 * run is admitted, decided once by someone with the right (the team's `budget_approver`, a
 * platform admin for other scopes), however many times the decision arrives and from which
 * surface, and expired when nobody decides in time.
 */
export class Approvals {
  private readonly audit: AuditLog;

  constructor(private readonly options: ApprovalsOptions) {
    this.audit = new AuditLog(options.knex);
  }

  /** Records the request for a held run (the id is on the run already) and tells approvers. */
  async request(input: {
    id: string;
    runId: string;
    requestedBy: string;
    requesterEmail: string;
    agentName: string;
    input: string;
    standing: BudgetStanding;
    estimateUsd: number;
    /** Where the run was asked for (`slack`, `a2a`…): the audit entry says so. */
    surface?: string | undefined;
  }): Promise<Approval> {
    const { knex } = this.options;
    const [row] = (await knex("approvals")
      .insert({
        id: input.id,
        run_id: input.runId,
        budget_id: input.standing.budget.id,
        budget_scope: input.standing.budget.scope,
        requested_by: input.requestedBy,
        requester_email: input.requesterEmail,
        agent_name: input.agentName,
        summary: summaryOf(input.input),
        spent_usd: input.standing.spentUsd + input.standing.reservedUsd,
        limit_usd: input.standing.limitUsd,
        estimate_usd: input.estimateUsd,
        expires_at: new Date(Date.now() + this.options.expiryMs),
      })
      .returning("*")) as ApprovalRow[];
    const approval = approvalFromRow(row as ApprovalRow);
    await this.audit.record({
      actor: `user:${input.requesterEmail}`,
      action: "approval.requested",
      targetType: "approval",
      targetId: approval.id,
      details: {
        run_id: approval.runId,
        budget_scope: approval.budgetScope,
        spent_usd: approval.spentUsd,
        limit_usd: approval.limitUsd,
        estimate_usd: approval.estimateUsd,
        ...(input.surface ? { surface: input.surface } : {}),
      },
    });
    await this.options.notifier?.requested(approval, approverQuery(approval.budgetScope));
    return approval;
  }

  /** A notify budget's threshold reached: in the audit log, and told to its approvers. */
  async announceThreshold(notice: ThresholdNotice): Promise<void> {
    await this.audit.record({
      actor: `user:${notice.requesterEmail}`,
      action: "budget.threshold_reached",
      targetType: "budget",
      targetId: notice.budgetScope,
      details: { percent: notice.percent, run_id: notice.runId, agent: notice.agentName },
    });
    await this.options.notifier?.thresholdReached?.(notice, approverQuery(notice.budgetScope));
  }

  async get(id: string): Promise<Approval | undefined> {
    if (!isUuid(id)) return undefined;
    const row = (await this.options.knex("approvals").where({ id }).first()) as
      | ApprovalRow
      | undefined;
    return row ? approvalFromRow(row) : undefined;
  }

  /** Whether the person may decide this approval: asked on every decision. */
  async mayDecide(principal: Principal, approval: Pick<Approval, "budgetScope">): Promise<boolean> {
    const { relation, object } = approverQuery(approval.budgetScope);
    return this.options.access.can(principal, relation, object);
  }

  /** Pending approvals, not yet expired, that the caller may decide; oldest first. */
  async pendingFor(principal: Principal, now = new Date()): Promise<Approval[]> {
    const rows = (await this.options
      .knex("approvals")
      .where({ status: "pending" })
      .andWhere("expires_at", ">", now)
      .orderBy("created_at")
      .limit(500)) as ApprovalRow[];
    const approvals = rows.map(approvalFromRow);
    const scopes = [...new Set(approvals.map((a) => a.budgetScope))];
    const allowed = new Set<string>();
    for (const scope of scopes) {
      if (await this.mayDecide(principal, { budgetScope: scope })) allowed.add(scope);
    }
    return approvals.filter((a) => allowed.has(a.budgetScope));
  }

  /**
   * Approve or deny, from any surface. The right is checked first (someone who may not
   * decide learns nothing more than that); the decision moves the approval from pending
   * exactly once (a conditional update), so a repeated click or a second approver finds it
   * decided and changes nothing; an expired approval is expired, not decided.
   */
  async decide(
    principal: Principal,
    id: string,
    input: DecisionInput,
    runs: HeldRuns,
  ): Promise<DecisionResult> {
    const reason = validReason(input.reason);
    const raiseUsd = validRaise(input);
    const found = await this.get(id);
    if (!found) throw notFound(`The approval ${id}`);
    if (!(await this.mayDecide(principal, found))) {
      throw forbidden(
        found.budgetScope.startsWith("team:")
          ? `Only the budget approvers of ${found.budgetScope} (its admins and platform admins) may decide this.`
          : `Only platform admins may decide approvals for ${found.budgetScope}.`,
      );
    }
    const { knex } = this.options;
    const status = input.decision === "approve" ? "approved" : "denied";
    const actor = actorOf(principal);
    const decided = await knex.transaction(async (trx) => {
      const [row] = (await trx("approvals")
        .where({ id, status: "pending" })
        .andWhere("expires_at", ">", trx.fn.now())
        .update({
          status,
          decided_by: actor,
          decided_at: trx.fn.now(),
          reason: reason ?? null,
          raised_usd: raiseUsd ?? null,
        })
        .returning("*")) as ApprovalRow[];
      if (!row) return undefined;
      const approval = approvalFromRow(row);
      if (raiseUsd && approval.budgetId) {
        const budget = await trx("budgets")
          .select("period")
          .where({ id: approval.budgetId })
          .first();
        if (budget) {
          const { from } = periodWindow(budget.period);
          await trx("budget_raises").insert({
            budget_id: approval.budgetId,
            period_start: from ?? null,
            amount_usd: raiseUsd,
            raised_by: actor,
          });
        }
      }
      await this.audit.record(
        {
          actor,
          action: `approval.${status}`,
          targetType: "approval",
          targetId: id,
          details: {
            run_id: approval.runId,
            budget_scope: approval.budgetScope,
            ...(reason ? { reason } : {}),
            ...(raiseUsd ? { raised_usd: raiseUsd } : {}),
          },
        },
        trx,
      );
      return approval;
    });
    if (!decided) {
      const current = (await this.get(id)) as Approval;
      if (current.status === "pending") {
        await this.expire(current, runs);
        throw conflict(
          `This approval expired at ${current.expiresAt.toISOString()}; the run was not started.`,
        );
      }
      return { approval: current, applied: false, runMoved: false };
    }
    const runMoved =
      status === "approved"
        ? await runs.approved(decided)
        : await runs.refused(decided, {
            code: "approval_denied",
            message: `Denied by ${actor.replace(/^user:/, "")}${reason ? `: ${reason}` : "."}`,
          });
    if (!runMoved) {
      // The run was cancelled before the decision reached it: the decision changes nothing.
      await knex("approvals").where({ id }).update({ status: "cancelled" });
      return { approval: { ...decided, status: "cancelled" }, applied: true, runMoved: false };
    }
    return { approval: decided, applied: true, runMoved };
  }

  /** The run was cancelled while it waited: its approval leaves the approvers' lists. */
  async withdraw(id: string): Promise<void> {
    const { knex } = this.options;
    const moved = await knex("approvals")
      .where({ id, status: "pending" })
      .update({ status: "cancelled", decided_at: knex.fn.now() });
    if (moved === 1) {
      await this.audit.record({
        actor: "system:runs",
        action: "approval.withdrawn",
        targetType: "approval",
        targetId: id,
      });
    }
  }

  /** Expires every pending approval past its time, failing the runs they held. */
  async expireDue(runs: HeldRuns, now = new Date()): Promise<number> {
    const rows = (await this.options
      .knex("approvals")
      .where({ status: "pending" })
      .andWhere("expires_at", "<=", now)
      .limit(100)) as ApprovalRow[];
    let expired = 0;
    for (const row of rows) if (await this.expire(approvalFromRow(row), runs)) expired += 1;
    return expired;
  }

  private async expire(approval: Approval, runs: HeldRuns): Promise<boolean> {
    const moved = await this.options
      .knex("approvals")
      .where({ id: approval.id, status: "pending" })
      .update({ status: "expired", decided_at: this.options.knex.fn.now() });
    if (moved !== 1) return false;
    await this.audit.record({
      actor: "system:approvals",
      action: "approval.expired",
      targetType: "approval",
      targetId: approval.id,
      details: { run_id: approval.runId, budget_scope: approval.budgetScope },
    });
    await runs.refused(approval, {
      code: "approval_expired",
      message: `Nobody approved this run in time (the budget for ${approval.budgetScope} needed an approver's yes); ask again, or ask an approver directly.`,
    });
    return true;
  }
}

/** Who may approve overruns of a budget: a team's budget approvers, else platform admins. */
export function approverQuery(scope: string): ApproverQuery {
  return scope.startsWith("team:")
    ? { relation: "budget_approver", object: scope }
    : { relation: "admin", object: PLATFORM };
}

function validReason(reason: unknown): string | undefined {
  if (reason === undefined || reason === null || reason === "") return undefined;
  if (typeof reason !== "string") throw badRequest("reason must be text.");
  if (reason.length > MAX_REASON_CHARS) {
    throw badRequest(`reason may be at most ${MAX_REASON_CHARS} characters.`);
  }
  const unstorable = unstorableTextProblem(reason);
  if (unstorable) throw badRequest(`reason ${unstorable}.`);
  return reason.trim();
}

function validRaise(input: DecisionInput): number | undefined {
  const raise = input.raiseUsd;
  if (raise === undefined || raise === null) return undefined;
  if (input.decision !== "approve") throw badRequest("Only an approval may raise the budget.");
  if (typeof raise !== "number" || !Number.isFinite(raise) || raise <= 0 || raise > 1_000_000) {
    throw badRequest("raise_usd must be a number of US dollars above 0.");
  }
  return Math.round(raise * 1e8) / 1e8;
}
