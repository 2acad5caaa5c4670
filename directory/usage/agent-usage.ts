import type { Knex } from "knex";
import { Ledger } from "../../governance/index.js";

/** One UTC day of an agent's use: runs asked for that day and what was spent that day. */
export interface DailyUsage {
  /** YYYY-MM-DD, UTC. */
  day: string;
  runs: number;
  costUsd: number;
}

/** Spend of one runtime and model over the window, from the ledger. */
export interface UsageBreakdown {
  runtime: string | null;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface AgentUsageReport {
  /** Every day of the window, oldest first, zero where nothing happened. */
  days: DailyUsage[];
  totals: { runs: number; costUsd: number };
  byRuntimeModel: UsageBreakdown[];
}

export interface UsageWindow {
  /** Days counted back from `now`'s UTC day, that day included; 30 unless told. */
  days?: number;
  now?: Date;
}

const DAY_MS = 86_400_000;

/** A grouped row, as the driver returns it. */
type Row = Record<string, unknown>;

/** Midnight UTC of the first day of the window. */
function windowStart(window: UsageWindow): { since: Date; days: number } {
  const days = window.days ?? 30;
  const now = window.now ?? new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { since: new Date(today - (days - 1) * DAY_MS), days };
}

const dayKey = (time: number) => new Date(time).toISOString().slice(0, 10);
// Money is numeric in the database and a decimal string here; sums of a page are small enough for a double.
const num = (value: unknown) => Number(value ?? 0);

/**
 * Read-only figures for the directory site: runs come from `runs` (what people asked for),
 * spend from governance's ledger (which also holds model calls an agent made through the proxy, so
 * it is the fuller count of cost). Days are UTC days, the same for every viewer.
 */
export class AgentUsage {
  constructor(private readonly knex: Knex) {}

  /** Runs and spend per day, and spend by runtime and model, for one agent. */
  async forAgent(agentId: string, window: UsageWindow = {}): Promise<AgentUsageReport> {
    const { since, days } = windowStart(window);
    const ledger = new Ledger(this.knex);
    const [runRows, spend, byRuntimeModel] = await Promise.all([
      this.knex("runs")
        .select({ day: this.knex.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`) })
        .count({ runs: "*" })
        .where("agent_id", agentId)
        .andWhere("created_at", ">=", since)
        .groupByRaw("1") as Promise<Row[]>,
      ledger.agentSpendByDay(agentId, since),
      ledger.agentSpendByRuntimeModel(agentId, since),
    ]);
    const runs = new Map(runRows.map((r) => [String(r.day), num(r.runs)]));
    const series: DailyUsage[] = [];
    for (let i = 0; i < days; i++) {
      const day = dayKey(since.getTime() + i * DAY_MS);
      series.push({ day, runs: runs.get(day) ?? 0, costUsd: spend.get(day) ?? 0 });
    }
    return {
      days: series,
      totals: {
        runs: series.reduce((sum, d) => sum + d.runs, 0),
        costUsd: series.reduce((sum, d) => sum + d.costUsd, 0),
      },
      byRuntimeModel,
    };
  }

  /**
   * Runs in the window for each of `agentIds`, in one grouped query (a catalog page asks once,
   * not once per card). Agents without runs are absent from the map.
   */
  async runCounts(
    agentIds: readonly string[],
    window: UsageWindow = {},
  ): Promise<Map<string, number>> {
    if (agentIds.length === 0) return new Map();
    const { since } = windowStart(window);
    const rows: Row[] = await this.knex("runs")
      .select("agent_id")
      .count({ runs: "*" })
      .whereIn("agent_id", [...new Set(agentIds)])
      .andWhere("created_at", ">=", since)
      .groupBy("agent_id");
    return new Map(rows.map((r) => [String(r.agent_id), num(r.runs)]));
  }
}
