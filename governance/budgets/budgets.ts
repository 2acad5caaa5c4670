import type { Knex } from "knex";
import { type AccessPolicy, actorOf, PLATFORM, type Principal } from "../../authz/index.js";
import { forbidden, isUuid, notFound } from "../../core/index.js";
import { AuditLog } from "../audit/audit-log.js";
import { scopeText } from "../ledger/scope.js";
import { type Budget, type BudgetRow, budgetFromRow, parseBudgetRequest } from "./budget.js";
import { BudgetAdmission, type BudgetStanding } from "./budget-admission.js";

/** A budget with where it stands now, as lists show it. */
export interface BudgetReport extends Budget {
  spentUsd: number;
  reservedUsd: number;
  limitUsd: number;
}

/**
 * The budgets table's owner: set, list and delete, each checked against the caller. A
 * team's admins manage (and see) their team's budgets; platform admins every budget;
 * anyone sees the budgets on their own spend. Every change is in the audit log.
 */
export class Budgets {
  private readonly audit: AuditLog;
  readonly admission: BudgetAdmission;

  constructor(
    private readonly knex: Knex,
    private readonly access: AccessPolicy,
  ) {
    this.audit = new AuditLog(knex);
    this.admission = new BudgetAdmission(knex);
  }

  /** Creates the budget for a scope and period, or replaces its amount and mode. */
  async set(
    principal: Principal,
    body: unknown,
    requestId?: string,
  ): Promise<{ budget: Budget; created: boolean }> {
    const request = parseBudgetRequest(body);
    const scope = scopeText(request.scope);
    await this.requireManage(principal, scope);
    return this.knex.transaction(async (trx) => {
      const existing = (await trx("budgets")
        .where({ scope, period: request.period })
        .forUpdate()
        .first()) as BudgetRow | undefined;
      const values = {
        amount_usd: request.amountUsd,
        mode: request.mode,
        thresholds: JSON.stringify(request.thresholds),
      };
      const [row] = existing
        ? ((await trx("budgets")
            .where({ id: existing.id })
            .update({ ...values, updated_at: trx.fn.now() })
            .returning("*")) as BudgetRow[])
        : ((await trx("budgets")
            .insert({ ...values, scope, period: request.period, created_by: actorOf(principal) })
            .returning("*")) as BudgetRow[]);
      const budget = budgetFromRow(row as BudgetRow);
      await this.audit.record(
        {
          actor: actorOf(principal),
          action: existing ? "budget.updated" : "budget.created",
          targetType: "budget",
          targetId: budget.id,
          details: {
            scope,
            period: budget.period,
            amount_usd: budget.amountUsd,
            mode: budget.mode,
            ...(existing
              ? { was: { amount_usd: Number(existing.amount_usd), mode: existing.mode } }
              : {}),
          },
          requestId,
        },
        trx,
      );
      return { budget, created: !existing };
    });
  }

  /** The budgets the caller may see, each with its spend so far this period. */
  async list(principal: Principal, now = new Date()): Promise<BudgetReport[]> {
    const rows = (await this.knex("budgets").orderBy(["scope", "period"])) as BudgetRow[];
    const visible = await this.visible(principal, rows.map(budgetFromRow));
    const standings = await this.admission.standings(visible, now);
    return standings.map(report);
  }

  async get(principal: Principal, id: string): Promise<BudgetReport> {
    const row = isUuid(id)
      ? ((await this.knex("budgets").where({ id }).first()) as BudgetRow | undefined)
      : undefined;
    const [budget] = row ? await this.visible(principal, [budgetFromRow(row)]) : [];
    if (!budget) throw notFound(`The budget ${id}`);
    const [standing] = await this.admission.standings([budget]);
    return report(standing as BudgetStanding);
  }

  async delete(principal: Principal, id: string, requestId?: string): Promise<void> {
    const budget = await this.get(principal, id);
    await this.requireManage(principal, budget.scope);
    await this.knex.transaction(async (trx) => {
      await trx("budgets").where({ id }).delete();
      await this.audit.record(
        {
          actor: actorOf(principal),
          action: "budget.deleted",
          targetType: "budget",
          targetId: id,
          details: { scope: budget.scope, period: budget.period, amount_usd: budget.amountUsd },
          requestId,
        },
        trx,
      );
    });
  }

  /** Platform admins manage every budget; a team's admins their team's. */
  async mayManage(principal: Principal, scope: string): Promise<boolean> {
    if (principal.kind === "system") return true;
    if (await this.access.can(principal, "admin", PLATFORM)) return true;
    return scope.startsWith("team:") && this.access.can(principal, "admin", scope);
  }

  private async requireManage(principal: Principal, scope: string): Promise<void> {
    if (await this.mayManage(principal, scope)) return;
    throw forbidden(
      scope.startsWith("team:")
        ? `Only the admins of ${scope} and platform admins may change its budgets.`
        : `Only platform admins may change budgets for ${scope}.`,
    );
  }

  private async visible(principal: Principal, budgets: Budget[]): Promise<Budget[]> {
    if (principal.kind === "system") return budgets;
    if (await this.access.can(principal, "admin", PLATFORM)) return budgets;
    if (principal.kind !== "user") return [];
    const teams = [...new Set(budgets.map((b) => b.scope).filter((s) => s.startsWith("team:")))];
    const adminOf = new Set(await this.access.filter(principal, "admin", teams));
    const own = `user:${principal.email}`;
    return budgets.filter((b) => b.scope === own || adminOf.has(b.scope));
  }
}

function report(standing: BudgetStanding): BudgetReport {
  return {
    ...standing.budget,
    spentUsd: standing.spentUsd,
    reservedUsd: standing.reservedUsd,
    limitUsd: standing.limitUsd,
  };
}
