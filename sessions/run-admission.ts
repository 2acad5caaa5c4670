import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import {
  type AccessPolicy,
  agentObject,
  UserDirectory,
  type UserPrincipal,
} from "../authz/index.js";
import { notFound, SwitchboardError } from "../core/index.js";
import {
  type Approval,
  type ApprovalNotifier,
  Approvals,
  BudgetAdmission,
  type BudgetDecision,
  type BudgetStanding,
  type BudgetWarning,
} from "../governance/index.js";
import type { RuntimeRegistry } from "../runtimes/index.js";
import type { AgentSource, RunnableAgent } from "./engine/agent-source.js";

/** What a run may cost when its agent sets no max_cost_usd_per_run (BUDGET_RUN_ESTIMATE_USD). */
export const DEFAULT_RUN_ESTIMATE_USD = 0.5;

export interface AdmissionOptions {
  knex: Knex;
  agents: AgentSource;
  access: AccessPolicy;
  runtimes: RuntimeRegistry;
  /** Reserved against budgets for a run whose agent sets no per-run limit. */
  runEstimateUsd?: number | undefined;
  /** How long an approver has to decide a held run. */
  approvalExpiryMs?: number | undefined;
  approvalNotifier?: ApprovalNotifier | undefined;
}

/** A run that may be stored: queued (its reservation made) or held for an approver. */
export interface Admitted {
  agent: RunnableAgent;
  runId: string;
  estimateUsd: number;
  hold?: { approvalId: string; message: string; standing: BudgetStanding } | undefined;
  /** Notify budgets this run took past a threshold. */
  warnings: BudgetWarning[];
}

/**
 * The one admission every run passes before it is stored and queued, from every surface
 * (API, site, Slack, Teams all start runs through the runs service): in order, is this
 * person active, may this person run this agent (OpenFGA), can the agent run now (its state, its runtime), and do
 * the budgets that apply allow it (hard: refused with the budget and its spend; approval:
 * held as `needs_approval`; notify: runs, with a warning past a threshold). An admitted
 * run holds a reservation against each budget until it ends.
 */
export class RunAdmission {
  readonly budgets: BudgetAdmission;
  readonly approvals: Approvals;
  private readonly users: UserDirectory;

  constructor(private readonly options: AdmissionOptions) {
    this.users = new UserDirectory(options.knex);
    this.budgets = new BudgetAdmission(options.knex);
    this.approvals = new Approvals({
      knex: options.knex,
      access: options.access,
      expiryMs: options.approvalExpiryMs ?? 60 * 60_000,
      notifier: options.approvalNotifier,
    });
  }

  /**
   * `known`: what the caller read of the person and the budgets just before, in a read of its
   * own (the runs service's start facts), so they are not read again here.
   */
  async admit(
    user: UserPrincipal,
    agentName: string,
    known?: { personActive: boolean; budgetsMayApply: boolean },
  ): Promise<Admitted> {
    refuseDeactivated(
      known ? known.personActive : (await this.users.findById(user.userId))?.isActive,
    );
    const agent = await this.runnableAgent(user, agentName);
    const runId = randomUUID();
    const estimateUsd = this.estimateFor(agent);
    const decision = await this.budgets.admit(
      {
        runId,
        userEmail: user.email,
        agentName: agent.name,
        agentOwner: agent.owner,
        estimateUsd,
      },
      { noneApply: known ? !known.budgetsMayApply : false },
    );
    return this.applyDecision(decision, agent, runId, estimateUsd);
  }

  /** Admits a held run again once approved, past the approved budget (others still hold). */
  async readmit(approval: Approval, agent: RunnableAgent): Promise<Admitted> {
    refuseDeactivated((await this.users.findByEmail(approval.requesterEmail))?.isActive);
    const estimateUsd = this.estimateFor(agent);
    const decision = await this.budgets.admit(
      {
        runId: approval.runId,
        userEmail: approval.requesterEmail,
        agentName: agent.name,
        agentOwner: agent.owner,
        estimateUsd,
      },
      { approvedBudgetIds: approval.budgetId ? [approval.budgetId] : [] },
    );
    return this.applyDecision(decision, agent, approval.runId, estimateUsd);
  }

  estimateFor(agent: RunnableAgent): number {
    return agent.maxCostUsdPerRun ?? this.options.runEstimateUsd ?? DEFAULT_RUN_ESTIMATE_USD;
  }

  private applyDecision(
    decision: BudgetDecision,
    agent: RunnableAgent,
    runId: string,
    estimateUsd: number,
  ): Admitted {
    if (decision.outcome === "refuse") {
      throw new SwitchboardError("budget_exceeded", decision.message, {
        status: 402,
        details: {
          budget_id: decision.budget.id,
          scope: decision.budget.scope,
          period: decision.budget.period,
          spent_usd: decision.spentUsd,
          reserved_usd: decision.reservedUsd,
          limit_usd: decision.limitUsd,
          estimate_usd: estimateUsd,
        },
      });
    }
    if (decision.outcome === "hold") {
      const { outcome: _, message, ...standing } = decision;
      return {
        agent,
        runId,
        estimateUsd,
        warnings: [],
        hold: {
          approvalId: randomUUID(),
          message: `${message} It waits for an approver's yes.`,
          standing,
        },
      };
    }
    return { agent, runId, estimateUsd, warnings: decision.warnings };
  }

  /** The agent, if the person may run it and it can run now; otherwise an error that says why. */
  private async runnableAgent(user: UserPrincipal, name: string): Promise<RunnableAgent> {
    const { access, agents, runtimes } = this.options;
    await access.require(user, "viewer", agentObject(name), {
      message: `The agent "${name}" was not found.`,
      hidden: true,
    });
    const agent = await agents.byName(name);
    if (!agent || agent.retired) throw notFound(`The agent "${name}"`);
    await access.require(user, "runner", agentObject(name), {
      message: `You may view "${name}" but not run it. Ask its owner for access: on the agent's page, "Request access".`,
    });
    if (agent.state !== "enabled") {
      const reason = agent.stateReason ? `: ${agent.stateReason}` : "";
      throw new SwitchboardError("agent_unavailable", `"${name}" is ${agent.state}${reason}.`, {
        status: 409,
      });
    }
    if (!runtimes.has(agent.runtime.type)) {
      throw new SwitchboardError(
        "runtime_unsupported",
        `"${name}" runs on "${agent.runtime.type}", which this Switchboard cannot drive.`,
        { status: 409 },
      );
    }
    return agent;
  }
}

/**
 * The first gate: a person deactivated (or deleted) by the identity provider starts nothing,
 * whichever surface still holds their principal (a chat message in flight, a page opened
 * before, a held run approved after).
 */
function refuseDeactivated(active: boolean | undefined): void {
  if (active) return;
  throw new SwitchboardError(
    "user_deactivated",
    "Your account is deactivated, so you cannot start runs. Ask your administrator.",
    { status: 403 },
  );
}
