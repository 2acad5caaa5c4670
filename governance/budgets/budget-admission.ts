import type { Knex } from "knex";
import { parseScope } from "../ledger/scope.js";
import { totalSpendQuery } from "../ledger/spend-totals.js";
import { type Budget, type BudgetRow, budgetFromRow } from "./budget.js";
import { periodWindow, periodWords } from "./periods.js";

/** Who spent budgets stop, by id, each with the words of the budget that stops them. */
export interface ExhaustedBudgets {
  platform: string | undefined;
  users: Map<string, string>;
  agents: Map<string, string>;
  teams: Map<string, string>;
}

/** The words of the spent budget that covers a key's person, agent or team, if one does. */
export function exhaustedFor(
  exhausted: ExhaustedBudgets,
  key: { userId: string | null; agentId: string | null; teamId: string | null },
): string | undefined {
  return (
    exhausted.platform ??
    (key.userId ? exhausted.users.get(key.userId) : undefined) ??
    (key.agentId ? exhausted.agents.get(key.agentId) : undefined) ??
    (key.teamId ? exhausted.teams.get(key.teamId) : undefined)
  );
}

/** Who a run is for, as budgets see it. */
export interface BudgetSubject {
  /** The run's id, chosen before it is stored, so its reservations name it. */
  runId: string;
  userEmail: string;
  agentName: string;
  /** The agent's owner (`team:SLUG` or `user:EMAIL`): a team's budget covers its agents' runs. */
  agentOwner: string;
  /** What the run may cost: the agent's max_cost_usd_per_run, or the configured estimate. */
  estimateUsd: number;
}

/** A budget as it stands for the run being admitted. */
export interface BudgetStanding {
  budget: Budget;
  spentUsd: number;
  /** Held by runs in flight. */
  reservedUsd: number;
  /** The amount plus approvers' raises for this period. */
  limitUsd: number;
}

export interface BudgetWarning extends BudgetStanding {
  /** The threshold (percent of the limit) this run's admission crossed. */
  percent: number;
  message: string;
}

export type BudgetDecision =
  | { outcome: "allow"; warnings: BudgetWarning[] }
  | ({ outcome: "refuse"; message: string } & BudgetStanding)
  | ({ outcome: "hold"; message: string } & BudgetStanding);

/** A reservation outlives this unless released: a process died between admitting and running. */
const RESERVATION_TTL_MS = 24 * 60 * 60_000;

const usd = (value: number) => `$${value.toFixed(2)}`;

/** The scopes whose budgets apply to a run. */
export function scopesFor(subject: Pick<BudgetSubject, "userEmail" | "agentName" | "agentOwner">) {
  const scopes = ["platform", `agent:${subject.agentName}`, `user:${subject.userEmail}`];
  if (subject.agentOwner.startsWith("team:")) scopes.push(subject.agentOwner);
  return scopes;
}

/**
 * Whether any budget may apply to a run of this agent for this person, as one boolean
 * expression a caller folds into a read of its own (the runs service's one read before
 * admission): the platform's, the agent's, the person's, or the one whose scope is the
 * owner of the live agent of that name (a team's). When it answers false, admission has
 * nothing to lock or reserve (`admit`'s `noneApply`).
 *
 * That stays exact under concurrency: with no budget row, `admit`'s `select … for update`
 * locks nothing either, so a budget created after this read is one the run was admitted
 * before, as it would be a moment later; a budget that exists at this read sends the run
 * through the locked transaction, where racing runs see each other's reservations.
 */
export function budgetsMayApply(
  knex: Knex,
  who: Pick<BudgetSubject, "userEmail" | "agentName">,
): Knex.Raw {
  const owners = knex("agents")
    .select("owner")
    .where({ name: who.agentName })
    .whereNull("retired_at");
  const applying = knex("budgets")
    .select(knex.raw("1"))
    .whereIn("scope", scopesFor({ ...who, agentOwner: "" }))
    .orWhereIn("scope", owners);
  return knex.raw("exists (?)", [applying]);
}

/**
 * Budgets at admission: each budget that applies to a run is locked (`select … for
 * update`, in a transaction) while its spend, the reservations of runs in flight and this
 * run's estimate are added up, and the run's reservation is written before the lock goes.
 * Two runs admitted at once therefore see each other's reservations: together they never
 * take a budget past its limit, on PostgreSQL and on PGlite alike.
 */
export class BudgetAdmission {
  constructor(private readonly knex: Knex) {}

  /**
   * Reserves the run's estimate against every budget that applies, or says which budget
   * stops it: `refuse` (hard) wins over `hold` (approval). `approvedBudgetIds`: budgets an
   * approver let this run past. `noneApply`: `budgetsMayApply` answered false for this run
   * (read just before), so there is nothing to lock or reserve, and no transaction is begun.
   */
  async admit(
    subject: BudgetSubject,
    options: { approvedBudgetIds?: readonly string[]; now?: Date; noneApply?: boolean } = {},
  ): Promise<BudgetDecision> {
    if (options.noneApply) return { outcome: "allow", warnings: [] };
    const now = options.now ?? new Date();
    return this.knex.transaction(async (trx) => {
      const rows = (await trx("budgets")
        .whereIn("scope", scopesFor(subject))
        .orderBy("id")
        .forUpdate()) as BudgetRow[];
      if (rows.length === 0) return { outcome: "allow", warnings: [] };
      // Read after the locks are held (a statement of its own: under READ COMMITTED it sees
      // every reservation committed by runs admitted before the locks were granted).
      const standings = await standingsOf(trx, rows.map(budgetFromRow), now);
      let hold: BudgetDecision | undefined;
      const warnings: BudgetWarning[] = [];
      for (const standing of standings) {
        const { budget } = standing;
        const projected = standing.spentUsd + standing.reservedUsd + subject.estimateUsd;
        if (projected > standing.limitUsd + 1e-9) {
          if (budget.mode === "hard") {
            return { outcome: "refuse", message: overMessage(standing, subject), ...standing };
          }
          if (budget.mode === "approval" && !options.approvedBudgetIds?.includes(budget.id)) {
            hold ??= { outcome: "hold", message: overMessage(standing, subject), ...standing };
            continue;
          }
        }
        if (budget.mode === "notify") {
          const warning = await crossedThreshold(trx, standing, projected, now);
          if (warning) warnings.push(warning);
        }
      }
      if (hold) return hold;
      const expiresAt = new Date(now.getTime() + RESERVATION_TTL_MS);
      await trx("budget_reservations").insert(
        rows.map((row) => ({
          budget_id: row.id,
          run_id: subject.runId,
          amount_usd: subject.estimateUsd,
          expires_at: expiresAt,
        })),
      );
      return { outcome: "allow", warnings };
    });
  }

  /** Gives back what a run held: it ended (its real cost is in the ledger) or never started. */
  async release(runId: string, trx: Knex = this.knex): Promise<void> {
    await trx("budget_reservations").where({ run_id: runId }).delete();
  }

  /** What is spent and held against each of these budgets now. */
  async standings(budgets: readonly Budget[], now = new Date()): Promise<BudgetStanding[]> {
    return standingsOf(this.knex, budgets, now);
  }

  /**
   * Whether a running run takes any budget that holds (hard or approval) past its limit:
   * the spend booked (its own proxy calls included), what its runtime reported but is not
   * booked yet (`unbookedUsd`), and the other runs' reservations. Answers the first such
   * budget's words.
   */
  async overrunWhileRunning(
    run: { runId: string; userId: string; agentName: string; agentOwner: string },
    unbookedUsd: number,
    now = new Date(),
  ): Promise<string | undefined> {
    const user = await this.knex("users").select("email").where({ id: run.userId }).first();
    const scopes = scopesFor({
      userEmail: String(user?.email ?? ""),
      agentName: run.agentName,
      agentOwner: run.agentOwner,
    });
    const rows = (await this.knex("budgets")
      .whereIn("scope", scopes)
      .whereIn("mode", ["hard", "approval"])) as BudgetRow[];
    for (const standing of await standingsOf(this.knex, rows.map(budgetFromRow), now, run.runId)) {
      const { budget } = standing;
      const total = standing.spentUsd + unbookedUsd + standing.reservedUsd;
      if (total > standing.limitUsd + 1e-9) {
        return `The run was stopped: the budget for ${budget.scope} is ${usd(standing.limitUsd)} ${periodWords(budget.period)}, and ${usd(standing.spentUsd + unbookedUsd)} is spent${standing.reservedUsd > 0 ? ` with ${usd(standing.reservedUsd)} held by other runs` : ""}.`;
      }
    }
    return undefined;
  }

  /**
   * Budgets that hold (hard, approval) and are spent to their limit now, by whom they stop:
   * the proxy refuses model calls of keys they cover (a person's, an agent's, a team's and
   * its agents', everyone's for the platform). Reservations do not count here: a run's own
   * calls spend what it reserved.
   */
  async exhausted(now = new Date()): Promise<ExhaustedBudgets> {
    const result: ExhaustedBudgets = {
      platform: undefined,
      users: new Map(),
      agents: new Map(),
      teams: new Map(),
    };
    const rows = (await this.knex("budgets").whereIn("mode", ["hard", "approval"])) as BudgetRow[];
    for (const standing of await standingsOf(this.knex, rows.map(budgetFromRow), now)) {
      const { budget } = standing;
      if (standing.spentUsd < standing.limitUsd) continue;
      const message = `The budget for ${budget.scope} (${usd(standing.limitUsd)} ${periodWords(budget.period)}) is spent: ${usd(standing.spentUsd)}.`;
      const scope = parseScope(budget.scope);
      if (scope.type === "platform") result.platform = message;
      else if (scope.type === "user") {
        for (const row of await this.knex("users").select("id").where({ email: scope.key })) {
          result.users.set(row.id, message);
        }
      } else if (scope.type === "agent") {
        for (const row of await this.knex("agents").select("id").where({ name: scope.key })) {
          result.agents.set(row.id, message);
        }
      } else {
        for (const row of await this.knex("teams").select("id").where({ slug: scope.key })) {
          result.teams.set(row.id, message);
        }
        const owned = await this.knex("agents")
          .select("id")
          .where({ owner: `team:${scope.key}` });
        for (const row of owned) result.agents.set(row.id, message);
      }
    }
    return result;
  }
}

/**
 * Each budget's spend in its current period, the reservations still held against it and its
 * limit, all in one statement (a row per budget), since admission reads every budget that
 * applies to a run. Spend comes from the ledger's running totals (`totalSpendQuery`: a few
 * rows a day), not from summing the ledger's rows for the period.
 */
async function standingsOf(
  knex: Knex,
  budgets: readonly Budget[],
  now: Date,
  exceptRunId?: string,
): Promise<BudgetStanding[]> {
  if (budgets.length === 0) return [];
  const [first, ...rest] = budgets.map((budget, index) => {
    const { from, to } = periodWindow(budget.period, now);
    const reservations = knex("budget_reservations")
      .select(knex.raw("coalesce(sum(amount_usd), 0)"))
      .where({ budget_id: budget.id })
      .andWhere("expires_at", ">", now);
    if (exceptRunId) reservations.whereNot({ run_id: exceptRunId });
    const raises = knex("budget_raises")
      .select(knex.raw("coalesce(sum(amount_usd), 0)"))
      .where({ budget_id: budget.id });
    if (from) raises.where({ period_start: from });
    else raises.whereNull("period_start");
    const spent = totalSpendQuery(knex, { scope: parseScope(budget.scope), from, to });
    return knex.select(
      knex.raw("?::int as i", [index]),
      spent.as("spent"),
      reservations.as("reserved"),
      raises.as("raised"),
    );
  });
  const query = rest.length > 0 ? (first as Knex.QueryBuilder).unionAll(rest, true) : first;
  const rows = (await query) as {
    i: number | string;
    spent: string;
    reserved: string;
    raised: string;
  }[];
  const byIndex = new Map(rows.map((row) => [Number(row.i), row]));
  return budgets.map((budget, index) => {
    const row = byIndex.get(index);
    return {
      budget,
      spentUsd: Number(row?.spent ?? 0),
      reservedUsd: Number(row?.reserved ?? 0),
      limitUsd: budget.amountUsd + Number(row?.raised ?? 0),
    };
  });
}

function overMessage(standing: BudgetStanding, subject: BudgetSubject): string {
  const { budget } = standing;
  const held =
    standing.reservedUsd > 0 ? ` and ${usd(standing.reservedUsd)} held by runs in progress` : "";
  return `The ${budget.mode === "hard" ? "" : "approval "}budget for ${budget.scope} is ${usd(standing.limitUsd)} ${periodWords(budget.period)}: ${usd(standing.spentUsd)} is spent${held}, and this run of "${subject.agentName}" may cost up to ${usd(subject.estimateUsd)}.`;
}

/**
 * The highest threshold of a notify budget this admission reaches, if it was not yet
 * announced this period (remembered on the budget row, which the caller holds locked).
 */
async function crossedThreshold(
  trx: Knex,
  standing: BudgetStanding,
  projectedUsd: number,
  now: Date,
): Promise<BudgetWarning | undefined> {
  const { budget } = standing;
  const percentUsed = (projectedUsd / standing.limitUsd) * 100;
  const reached = budget.thresholds.filter((t) => percentUsed >= t).at(-1);
  if (reached === undefined) return undefined;
  const { from } = periodWindow(budget.period, now);
  const row = await trx("budgets")
    .select("warned_period", "warned_percent")
    .where({ id: budget.id })
    .first();
  const samePeriod =
    (row?.warned_period ? new Date(row.warned_period).getTime() : null) ===
    (from ? from.getTime() : null);
  if (samePeriod && row?.warned_percent !== null && Number(row?.warned_percent) >= reached) {
    return undefined;
  }
  await trx("budgets")
    .where({ id: budget.id })
    .update({ warned_period: from ?? null, warned_percent: reached });
  return {
    ...standing,
    percent: reached,
    message: `The budget for ${budget.scope} is at ${reached}% of ${usd(standing.limitUsd)} ${periodWords(budget.period)} (${usd(standing.spentUsd)} spent).`,
  };
}
