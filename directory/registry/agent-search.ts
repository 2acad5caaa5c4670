import type { Knex } from "knex";
import { badRequest } from "../../core/index.js";
import type { AgentState } from "./agent-record.js";

/** What the catalog narrows by: free text and the four facets. */
export interface AgentFilter {
  /** Words that must all appear in the name, title, description or tags (any case). */
  q?: string | undefined;
  owner?: string | undefined;
  tag?: string | undefined;
  runtime?: string | undefined;
  lifecycle?: string | undefined;
  /** Default: enabled and suspended (disabled agents leave the catalog). */
  states?: readonly AgentState[] | undefined;
}

export type FacetName = "owner" | "tag" | "runtime" | "lifecycle";
export interface FacetCount {
  value: string;
  count: number;
}
export type Facets = Record<FacetName, FacetCount[]>;

const LISTED_STATES: readonly AgentState[] = ["enabled", "suspended"];
const FACET_LIMIT = 50;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Adds the filter's conditions to a query over `agents`. `except` leaves one facet's own
 * condition out, so its counts show the other values a person could switch to.
 */
export function whereMatches(
  query: Knex.QueryBuilder,
  filter: AgentFilter,
  except?: FacetName,
): Knex.QueryBuilder {
  query.whereNull("agents.retired_at").whereIn("agents.state", filter.states ?? LISTED_STATES);
  if (filter.owner && except !== "owner") query.where("agents.owner", filter.owner);
  if (filter.runtime && except !== "runtime") query.where("agents.runtime_type", filter.runtime);
  if (filter.lifecycle && except !== "lifecycle") query.where("agents.lifecycle", filter.lifecycle);
  if (filter.tag && except !== "tag")
    query.whereRaw("agents.tags @> ?::jsonb", [JSON.stringify([filter.tag])]);
  for (const word of (filter.q ?? "").split(/\s+/).filter(Boolean)) {
    query.whereRaw(
      "(agents.name || ' ' || agents.title || ' ' || agents.description || ' ' || agents.tags::text) ilike ?",
      [`%${escapeLike(word)}%`],
    );
  }
  return query;
}

/** The columns facets count, one row per agent. */
interface FacetRow {
  owner: string;
  runtime_type: string;
  lifecycle: string;
  tags: string[];
}

const FACET_VALUES: Record<FacetName, (row: FacetRow) => readonly string[]> = {
  owner: (row) => [row.owner],
  tag: (row) => row.tags,
  runtime: (row) => [row.runtime_type],
  lifecycle: (row) => [row.lifecycle],
};

/** Whether a row passes the filter's facet conditions, leaving out `except`'s own. */
function facetMatch(row: FacetRow, filter: AgentFilter, except: FacetName): boolean {
  if (filter.owner && except !== "owner" && row.owner !== filter.owner) return false;
  if (filter.runtime && except !== "runtime" && row.runtime_type !== filter.runtime) return false;
  if (filter.lifecycle && except !== "lifecycle" && row.lifecycle !== filter.lifecycle)
    return false;
  if (filter.tag && except !== "tag" && !row.tags.includes(filter.tag)) return false;
  return true;
}

/**
 * Counts per facet value over the agents matching the filter, among `visible` names only
 * (so counts never reveal agents the person may not view).
 *
 * One query fetches the four facet columns of the visible agents that match the search and
 * states, and the counting happens here: four grouped queries, each sending every visible
 * name again, cost four times the round trips and array matching (the directory bench).
 */
export async function facetCounts(
  knex: Knex,
  filter: AgentFilter,
  visible: readonly string[],
): Promise<Facets> {
  const facets: Facets = { owner: [], tag: [], runtime: [], lifecycle: [] };
  if (visible.length === 0) return facets;
  // One JSON text rather than a row per agent: on PGlite, decoding thousands of rows took
  // twice as long as the whole query otherwise (the directory bench).
  const query = knex("agents")
    .select(
      knex.raw(
        "coalesce(json_agg(json_build_array(agents.owner, agents.runtime_type, agents.lifecycle, agents.tags)), '[]')::text as rows",
      ),
    )
    .whereRaw("agents.name = any(?)", [visible as string[]]);
  const [result] = (await whereMatches(query, { q: filter.q, states: filter.states })) as {
    rows: string;
  }[];
  const rows = (JSON.parse(result?.rows ?? "[]") as [string, string, string, string[]][]).map(
    ([owner, runtime_type, lifecycle, tags]): FacetRow => ({
      owner,
      runtime_type,
      lifecycle,
      tags,
    }),
  );
  for (const facet of Object.keys(facets) as FacetName[]) {
    const counts = new Map<string, number>();
    for (const row of rows) {
      if (!facetMatch(row, filter, facet)) continue;
      for (const value of FACET_VALUES[facet](row)) counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    facets[facet] = [...counts]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, FACET_LIMIT);
  }
  return facets;
}

/** Opaque to clients: the name the next page starts after. */
export function encodeCursor(afterName: string): string {
  return Buffer.from(JSON.stringify({ after: afterName })).toString("base64url");
}

export function decodeCursor(cursor: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      after?: unknown;
    };
    if (typeof after === "string") return after;
  } catch {
    // fall through
  }
  throw badRequest("The cursor is not one this server gave out; start again without it.");
}
