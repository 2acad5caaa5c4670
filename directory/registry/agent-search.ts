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

/**
 * Counts per facet value over the agents matching the filter, among `visible` names only
 * (so counts never reveal agents the person may not view).
 */
export async function facetCounts(
  knex: Knex,
  filter: AgentFilter,
  visible: readonly string[],
): Promise<Facets> {
  if (visible.length === 0) return { owner: [], tag: [], runtime: [], lifecycle: [] };
  const count = async (facet: FacetName, column: string, from: Knex.Raw | string) => {
    const query = knex
      .from(from)
      .select(knex.raw(`${column} as value`))
      .count("* as count")
      .whereRaw("agents.name = any(?)", [visible as string[]])
      .groupBy("value")
      .orderBy([
        { column: "count", order: "desc" },
        { column: "value", order: "asc" },
      ])
      .limit(FACET_LIMIT);
    const rows = (await whereMatches(query, filter, facet)) as { value: string; count: unknown }[];
    return rows.map((row) => ({ value: row.value, count: Number(row.count) }));
  };
  const [owner, tag, runtime, lifecycle] = await Promise.all([
    count("owner", "agents.owner", "agents"),
    count("tag", "tag", knex.raw("agents, jsonb_array_elements_text(agents.tags) as tag")),
    count("runtime", "agents.runtime_type", "agents"),
    count("lifecycle", "agents.lifecycle", "agents"),
  ]);
  return { owner, tag, runtime, lifecycle };
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
