import type { Knex } from "knex";
import { daysBetween, type SpendGroup, type SpendRequest } from "./spend-request.js";

/** Whose ledger rows a caller may see. */
export interface SpendScope {
  /** Every row: platform admins. */
  all: boolean;
  /** Rows booked to these teams (ids): the teams the caller is an admin of. */
  teamIds: readonly string[];
  /** And the caller's own rows (users.id). */
  userId?: string | undefined;
}

/** The filters once names are turned into ids; `null` is a name that matches nothing. */
export interface ResolvedFilters {
  teamId?: string | null;
  userId?: string | null;
  agentIds?: readonly string[];
  runtime?: string;
  model?: string;
}

export interface SpendItem {
  /** The team's slug, the person's email, the agent's name, the runtime or the model; null: none booked. */
  key: string | null;
  cost_usd: number;
  /** The part of cost_usd that is an estimate: runtimes that bill by their own meter, priced by a configured rate. */
  estimated_usd: number;
  /** Runs first booked in the range and in the group (see `spendFigures`). */
  runs: number;
}

export interface SpendDay {
  /** YYYY-MM-DD, UTC. */
  day: string;
  cost_usd: number;
  runs: number;
}

export interface SpendFigures {
  total_usd: number;
  /** The part of total_usd that is an estimate (see SpendItem). */
  estimated_usd: number;
  runs: number;
  items: SpendItem[];
  /** Every day of the range, oldest first, zero where nothing was booked. */
  days: SpendDay[];
}

/**
 * The team a ledger row counts against: the team booked on the row when its writer knew it,
 * else the team that owns the row's agent (`agents.owner = 'team:SLUG'`). Runtime rows and
 * most proxy rows carry no team, and an agent's team is who pays for it in every budget.
 */
const TEAM = "coalesce(l.team_id, agent_team.team_id)";

const KEY_COLUMN: Record<SpendGroup, string> = {
  team: TEAM,
  user: "l.user_id",
  agent: "l.agent_id",
  runtime: "l.runtime",
  model: "l.model",
};

/** A date column as YYYY-MM-DD, whether the driver gives a string or a Date (at local midnight). */
function dayText(value: unknown): string {
  if (value instanceof Date) {
    const local = new Date(value.getTime() - value.getTimezoneOffset() * 60_000);
    return local.toISOString().slice(0, 10);
  }
  return String(value).slice(0, 10);
}

/** Ids of each group's key, turned into names people read (team slug, email, agent name). */
const NAMES: Partial<Record<SpendGroup, { table: string; name: string }>> = {
  team: { table: "teams", name: "slug" },
  user: { table: "users", name: "email" },
  agent: { table: "agents", name: "name" },
};

/** The total row's UTC day. */
const DAY = "l.day";

const money = (value: unknown) => Number(value ?? 0);
const count = (value: unknown) => Number(value ?? 0);

type Column = SpendGroup;

/**
 * The ledger's running totals (governance/ledger's spend-totals.ts), narrowest first, with the
 * columns each can answer for: `team` needs the booked team and the agent (whose owning team
 * counts when none was booked). A request reads the first that has every column its grouping,
 * filters and scope read; all three hold the same costs and runs, only folded differently.
 */
const TOTALS: readonly { table: string; columns: ReadonlySet<Column> }[] = [
  { table: "spend_daily_agents", columns: new Set(["team", "agent"]) },
  { table: "spend_daily_users", columns: new Set(["user"]) },
  { table: "spend_daily", columns: new Set(["team", "user", "agent", "runtime", "model"]) },
];

/** The columns a request reads: its grouping, its filters and, unless it sees all, its scope. */
function columnsRead(group: SpendGroup, filters: ResolvedFilters, scope: SpendScope): Column[] {
  const columns: Column[] = [group];
  if (filters.teamId !== undefined) columns.push("team");
  if (filters.userId !== undefined) columns.push("user");
  if (filters.agentIds !== undefined) columns.push("agent");
  if (filters.runtime !== undefined) columns.push("runtime");
  if (filters.model !== undefined) columns.push("model");
  if (!scope.all) {
    if (scope.userId) columns.push("user");
    if (scope.teamIds.length > 0) columns.push("team");
  }
  return columns;
}

/**
 * Spend from the ledger's running totals (kept by governance/ledger in the ledger's own
 * transactions), grouped and per day, over the rows a scope may see: the same costs as the
 * ledger's rows for any request.
 *
 * `runs` are summed, not counted: each run is counted once, in the total of its first
 * booking (migration 20261206_0900_spend_totals). So a group's runs are the runs whose first
 * booking falls in the range and in that group; the items' runs and the days' runs each add
 * up to the total. Every row of a run names one person and one agent, so by person and by
 * agent a run counts in the group that holds all its spend; by model, team or day a run that
 * used two models, a proxy key of another team or ran past midnight counts under its first
 * booking's, not under each. Spend booked to no run adds no run.
 *
 * One statement answers all three figures, one grouping set each.
 */
export async function spendFigures(
  knex: Knex,
  request: SpendRequest,
  filters: ResolvedFilters,
  scope: SpendScope,
): Promise<SpendFigures> {
  const key = KEY_COLUMN[request.groupBy];
  const needed = columnsRead(request.groupBy, filters, scope);
  const { table } = TOTALS.find((t) =>
    needed.every((c) => t.columns.has(c)),
  ) as (typeof TOTALS)[number];
  const query = knex.from({ l: table });
  // The agents' teams are joined only when the team is read: every row pays for the join.
  if (needed.includes("team")) {
    query
      .with(
        "agent_team",
        knex.raw(
          "select a.id as agent_id, t.id as team_id from agents a join teams t on a.owner = 'team:' || t.slug",
        ),
      )
      .leftJoin("agent_team", "agent_team.agent_id", "l.agent_id");
  }
  query
    .select(
      knex.raw(`${key} as key`),
      knex.raw(`${DAY}::text as day`),
      knex.raw(`grouping(${key}) as no_key`),
      knex.raw(`grouping(${DAY}) as no_day`),
      knex.raw("sum(l.cost_usd) as cost"),
      knex.raw("sum(l.estimated_usd) as estimated"),
      knex.raw("sum(l.runs) as runs"),
    )
    .where(DAY, ">=", request.from)
    .andWhere(DAY, "<=", request.to)
    .groupByRaw(`grouping sets ((${key}), (${DAY}), ())`);
  applyFilters(query, filters);
  applyScope(query, scope);
  const rows = (await query) as Record<string, unknown>[];

  let total = { cost: 0, estimated: 0, runs: 0 };
  const groups: SpendItem[] = [];
  const perDay = new Map<string, SpendDay>();
  for (const row of rows) {
    const noKey = Number(row.no_key) === 1;
    const noDay = Number(row.no_day) === 1;
    if (noKey && noDay) {
      total = { cost: money(row.cost), estimated: money(row.estimated), runs: count(row.runs) };
    } else if (noDay) {
      const id = row.key === null || row.key === undefined ? null : String(row.key);
      groups.push({
        key: id,
        cost_usd: money(row.cost),
        estimated_usd: money(row.estimated),
        runs: count(row.runs),
      });
    } else {
      const day = dayText(row.day);
      perDay.set(day, { day, cost_usd: money(row.cost), runs: count(row.runs) });
    }
  }
  const items = await named(knex, request.groupBy, groups);
  items.sort((a, b) => b.cost_usd - a.cost_usd || String(a.key).localeCompare(String(b.key)));
  return {
    total_usd: total.cost,
    estimated_usd: total.estimated,
    runs: total.runs,
    items,
    days: daysBetween(request.from, request.to).map(
      (day) => perDay.get(day) ?? { day, cost_usd: 0, runs: 0 },
    ),
  };
}

function applyFilters(query: Knex.QueryBuilder, filters: ResolvedFilters): void {
  const nothing = () => query.whereRaw("false");
  if (filters.teamId === null || filters.userId === null) nothing();
  if (filters.teamId) query.whereRaw(`${TEAM} = ?`, [filters.teamId]);
  if (filters.userId) query.where("l.user_id", filters.userId);
  if (filters.agentIds) {
    if (filters.agentIds.length === 0) nothing();
    else query.whereIn("l.agent_id", filters.agentIds as string[]);
  }
  if (filters.runtime) query.where("l.runtime", filters.runtime);
  if (filters.model) query.where("l.model", filters.model);
}

/** Deny by default: a scope that names nobody sees no row. */
function applyScope(query: Knex.QueryBuilder, scope: SpendScope): void {
  if (scope.all) return;
  const { teamIds, userId } = scope;
  query.where((visible) => {
    visible.whereRaw("false");
    if (userId) visible.orWhere("l.user_id", userId);
    if (teamIds.length > 0) {
      visible.orWhereRaw(`${TEAM} in (${teamIds.map(() => "?").join(", ")})`, [...teamIds]);
    }
  });
}

/** Swaps ids for the names people know; an id whose row is gone stays as it is. */
async function named(knex: Knex, group: SpendGroup, items: SpendItem[]): Promise<SpendItem[]> {
  const source = NAMES[group];
  const ids = items.map((item) => item.key).filter((key): key is string => key !== null);
  if (!source || ids.length === 0) return items;
  const rows = (await knex(source.table)
    .whereIn("id", ids)
    .select("id", { name: source.name })) as { id: string; name: string }[];
  const names = new Map(rows.map((row) => [row.id, row.name]));
  return items.map((item) => ({ ...item, key: item.key && (names.get(item.key) ?? item.key) }));
}
