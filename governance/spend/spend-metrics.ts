import type { Knex } from "knex";
import { Gauge, type Registry } from "prom-client";
import { spendFigures } from "./spend-report.js";
import { dayOf, type SpendGroup } from "./spend-request.js";

/** One budget's use, as the budgets module reports it for the metrics. */
export interface BudgetUse {
  /** `team:SLUG`, `agent:NAME`, `user:EMAIL` or `platform`. */
  scope: string;
  period: string;
  limitUsd: number;
  spentUsd: number;
}

export interface SpendMetricsOptions {
  knex: Knex;
  /** Each budget's limit and spend this period; unset until budgets exist. */
  budgetUse?: (() => Promise<BudgetUse[]>) | undefined;
  /** Figures are read at most this often, however often Prometheus scrapes (default 60 s). */
  refreshMs?: number;
  /** Distinct models reported; the rest are summed as `other` (default 50). */
  maxModels?: number;
  now?: () => Date;
}

/**
 * Spend and budget use as Prometheus gauges, read from the ledger when scraped (at most once
 * a `refreshMs`): this month's spend (UTC) by team, runtime and model, and each budget's limit,
 * spend and the share used. Gauges, not counters: the ledger is the count, shared by every
 * process, so each process reports the same figures (aggregate with `max`, not `sum`).
 */
export function registerSpendMetrics(registry: Registry, options: SpendMetricsOptions): void {
  const refreshMs = options.refreshMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  let last: { at: number; work: Promise<void> } | undefined;
  const refresh = () => {
    const at = Date.now();
    if (!last || at - last.at >= refreshMs) {
      // A read that failed (the database restarting) leaves the last figures, and the next
      // scrape tries again.
      last = {
        at,
        work: read().catch(() => {
          last = undefined;
        }),
      };
    }
    return last.work;
  };

  const monthly = (name: string, label: string, help: string) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      async collect() {
        await refresh();
      },
    });
  const byTeam = monthly(
    "switchboard_spend_month_usd",
    "team",
    "Spend this UTC month, by team (an agent's spend counts for the team that owns it).",
  );
  const byRuntime = monthly(
    "switchboard_spend_month_by_runtime_usd",
    "runtime",
    "Spend this UTC month, by runtime (`proxy` for model calls booked without one).",
  );
  const byModel = monthly(
    "switchboard_spend_month_by_model_usd",
    "model",
    "Spend this UTC month, by model (beyond the top ones, `other`).",
  );
  const budgetLimit = new Gauge({
    name: "switchboard_budget_limit_usd",
    help: "Each budget's amount for its period.",
    labelNames: ["scope", "period"],
    registers: [registry],
    async collect() {
      await refresh();
    },
  });
  const budgetSpent = new Gauge({
    name: "switchboard_budget_spent_usd",
    help: "What each budget's scope has spent in its current period.",
    labelNames: ["scope", "period"],
    registers: [registry],
    async collect() {
      await refresh();
    },
  });
  const budgetUsed = new Gauge({
    name: "switchboard_budget_used_ratio",
    help: "Each budget's spend over its amount (1 = all of it).",
    labelNames: ["scope", "period"],
    registers: [registry],
    // Every gauge waits for the same read: the registry collects them all at once.
    async collect() {
      await refresh();
    },
  });

  async function read(): Promise<void> {
    const today = dayOf(now());
    const month = { from: `${today.slice(0, 8)}01`, to: today, filters: {} };
    const grouped = (groupBy: SpendGroup) =>
      spendFigures(options.knex, { ...month, groupBy }, {}, { all: true, teamIds: [] });
    const [teams, runtimes, models, budgets] = await Promise.all([
      grouped("team"),
      grouped("runtime"),
      grouped("model"),
      options.budgetUse?.() ?? Promise.resolve(undefined),
    ]);
    byTeam.reset();
    for (const item of teams.items) byTeam.set({ team: item.key ?? "none" }, item.cost_usd);
    byRuntime.reset();
    for (const item of runtimes.items)
      byRuntime.set({ runtime: item.key ?? "proxy" }, item.cost_usd);
    byModel.reset();
    const maxModels = options.maxModels ?? 50;
    let other = 0;
    models.items.forEach((item, i) => {
      if (i < maxModels) byModel.set({ model: item.key ?? "unknown" }, item.cost_usd);
      else other += item.cost_usd;
    });
    if (other > 0) byModel.set({ model: "other" }, other);
    if (budgets) {
      for (const gauge of [budgetLimit, budgetSpent, budgetUsed]) gauge.reset();
      for (const budget of budgets) {
        const labels = { scope: budget.scope, period: budget.period };
        budgetLimit.set(labels, budget.limitUsd);
        budgetSpent.set(labels, budget.spentUsd);
        budgetUsed.set(labels, budget.limitUsd > 0 ? budget.spentUsd / budget.limitUsd : 0);
      }
    }
  }
}
