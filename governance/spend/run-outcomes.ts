import type { Knex } from "knex";
import { nextDay } from "./spend-request.js";

/** How runs turned out, for one agent or for all of them. */
export interface Outcome {
  /** Runs asked for in the range, whatever became of them. */
  runs: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Queued, waiting for approval or running still. */
  unfinished: number;
  /** succeeded / (succeeded + failed); null before any run ended either way. Cancelled runs are apart. */
  success_rate: number | null;
  /** Seconds from start to end of runs that succeeded or failed; null without any. */
  p50_seconds: number | null;
  p95_seconds: number | null;
  /** Everything booked to these runs in the ledger (runtime-reported and proxy calls). */
  cost_usd: number;
  /** cost_usd / succeeded: what each success cost, failures' spend included; null without one. */
  cost_per_success_usd: number | null;
  /** Failed runs by their error code, most first. */
  failures: { reason: string; runs: number }[];
}

export interface AgentOutcome extends Outcome {
  agent: string;
}

export interface OutcomeFigures {
  total: Outcome;
  /** One per agent with runs in the range, most runs first. */
  agents: AgentOutcome[];
}

const num = (value: unknown) => Number(value ?? 0);
/** Seconds to the millisecond: percentiles interpolate in floats (36.99999999999999 is 37). */
const seconds = (value: unknown) =>
  value === null || value === undefined ? null : Math.round(Number(value) * 1000) / 1000;
const ENDED = "status in ('succeeded', 'failed')";
const SECONDS = "extract(epoch from (r.finished_at - r.started_at))";
const REASON = "coalesce(r.error->>'code', 'unknown')";

/**
 * Outcomes of the runs asked for from `from` to `to` (UTC days, both included), of these agents
 * (ids) or of all. Reads `runs` and `ledger` only to count: the runs engine owns the one,
 * governance/ledger the other. Each agent's figures and the total come from one pass
 * (`grouping sets`), percentiles as PostgreSQL computes them (`percentile_cont`).
 */
export async function runOutcomes(
  knex: Knex,
  range: { from: string; to: string; agentIds?: readonly string[] },
): Promise<OutcomeFigures> {
  const runs = knex("runs as r")
    .where("r.created_at", ">=", `${range.from}T00:00:00Z`)
    .andWhere("r.created_at", "<", `${nextDay(range.to)}T00:00:00Z`);
  if (range.agentIds) runs.whereIn("r.agent_id", range.agentIds as string[]);
  const scoped = runs
    .clone()
    .select("r.id", "r.agent_id", "r.status", "r.error", knex.raw(`${SECONDS} as seconds`));

  const [rows, reasons] = (await Promise.all([
    knex
      .with("r", scoped)
      .with(
        "c",
        knex("ledger")
          .select("run_id")
          .sum({ cost: "cost_usd" })
          .whereIn("run_id", knex("r").select("id"))
          .groupBy("run_id"),
      )
      .from("r")
      .leftJoin("c", "c.run_id", "r.id")
      .select(
        "r.agent_id",
        knex.raw("grouping(r.agent_id) as everyone"),
        knex.raw("count(*) as runs"),
        knex.raw("count(*) filter (where status = 'succeeded') as succeeded"),
        knex.raw("count(*) filter (where status = 'failed') as failed"),
        knex.raw("count(*) filter (where status = 'cancelled') as cancelled"),
        knex.raw(
          `percentile_cont(0.5) within group (order by seconds) filter (where ${ENDED}) as p50`,
        ),
        knex.raw(
          `percentile_cont(0.95) within group (order by seconds) filter (where ${ENDED}) as p95`,
        ),
        knex.raw("coalesce(sum(c.cost), 0) as cost"),
      )
      .groupByRaw("grouping sets ((r.agent_id), ())"),
    knex
      .with("r", scoped)
      .from("r")
      .select(
        "r.agent_id",
        knex.raw("grouping(r.agent_id) as everyone"),
        knex.raw(`${REASON} as reason`),
        knex.raw("count(*) as runs"),
      )
      .where("r.status", "failed")
      .groupByRaw(`grouping sets ((r.agent_id, ${REASON}), (${REASON}))`),
  ])) as Record<string, unknown>[][];

  const failuresOf = (agentId: string | null) =>
    reasons
      .filter((row) =>
        agentId === null
          ? num(row.everyone) === 1
          : row.agent_id === agentId && num(row.everyone) === 0,
      )
      .map((row) => ({ reason: String(row.reason), runs: num(row.runs) }))
      .sort((a, b) => b.runs - a.runs || a.reason.localeCompare(b.reason));
  const outcomeOf = (row: Record<string, unknown> | undefined, agentId: string | null): Outcome => {
    const succeeded = num(row?.succeeded);
    const failed = num(row?.failed);
    const cancelled = num(row?.cancelled);
    const cost = num(row?.cost);
    return {
      runs: num(row?.runs),
      succeeded,
      failed,
      cancelled,
      unfinished: num(row?.runs) - succeeded - failed - cancelled,
      success_rate: succeeded + failed > 0 ? succeeded / (succeeded + failed) : null,
      p50_seconds: seconds(row?.p50),
      p95_seconds: seconds(row?.p95),
      cost_usd: cost,
      cost_per_success_usd: succeeded > 0 ? cost / succeeded : null,
      failures: failuresOf(agentId),
    };
  };

  const perAgent = rows.filter((row) => num(row.everyone) === 0);
  const names = new Map(
    (
      (await knex("agents")
        .whereIn(
          "id",
          perAgent.map((row) => String(row.agent_id)),
        )
        .select("id", "name")) as {
        id: string;
        name: string;
      }[]
    ).map((row) => [row.id, row.name]),
  );
  return {
    total: outcomeOf(
      rows.find((row) => num(row.everyone) === 1),
      null,
    ),
    agents: perAgent
      .map((row) => ({
        agent: names.get(String(row.agent_id)) ?? String(row.agent_id),
        ...outcomeOf(row, String(row.agent_id)),
      }))
      .sort((a, b) => b.runs - a.runs || a.agent.localeCompare(b.agent)),
  };
}
