import type { Knex } from "knex";
import { type Agent, type AgentRow, agentFromRow } from "./agent-record.js";
import { type AgentFilter, type Facets, facetCounts, whereMatches } from "./agent-search.js";

/**
 * The catalog's reads of the agents table: pages, searches and facet counts over live
 * agents, with no permission checks (AgentDirectory filters them by what a person may view).
 * Writes stay with AgentRegistry, which owns the table and keeps its tuples in step.
 */
export class AgentCatalog {
  constructor(private readonly knex: Knex) {}

  /** Live agents matching the filter, by name, after `after`: one page of candidates. */
  async page(filter: AgentFilter, options: { after?: string; limit: number }): Promise<Agent[]> {
    const query = whereMatches(this.knex<AgentRow>("agents").select("agents.*"), filter)
      .orderBy("agents.name")
      .limit(options.limit);
    if (options.after !== undefined) query.where("agents.name", ">", options.after);
    return ((await query) as AgentRow[]).map(agentFromRow);
  }

  /**
   * Names only of live agents matching the filter, by name, after `after`: the candidates a
   * person's rights are checked on. Names, not rows: most candidates are dropped, and reading
   * and parsing their manifests was most of a list's time (the directory bench).
   */
  async candidateNames(
    filter: AgentFilter,
    options: { after?: string | undefined; limit: number },
  ): Promise<string[]> {
    const query = whereMatches(this.knex("agents").select("agents.name"), filter)
      .orderBy("agents.name")
      .limit(options.limit);
    if (options.after !== undefined) query.where("agents.name", ">", options.after);
    return ((await query) as { name: string }[]).map((row) => row.name);
  }

  /**
   * Names of live agents matching the filter among `visible` (every agent a person may view),
   * by name, after `after`: one index lookup in place of a scan of everything that matches.
   */
  async namesAmong(
    filter: AgentFilter,
    visible: readonly string[],
    options: { after?: string | undefined; limit: number },
  ): Promise<string[]> {
    if (visible.length === 0) return [];
    const query = whereMatches(this.knex("agents").select("agents.name"), filter)
      .whereRaw("agents.name = any(?)", [visible as string[]])
      .orderBy("agents.name")
      .limit(options.limit);
    if (options.after !== undefined) query.where("agents.name", ">", options.after);
    return ((await query) as { name: string }[]).map((row) => row.name);
  }

  /** The live agents with these names, by name. */
  async findLive(names: readonly string[]): Promise<Agent[]> {
    if (names.length === 0) return [];
    const rows = (await this.knex<AgentRow>("agents")
      .whereRaw("name = any(?)", [names as string[]])
      .whereNull("retired_at")
      .orderBy("name")) as AgentRow[];
    return rows.map(agentFromRow);
  }

  /** Facet counts among the named agents (those a person may view). */
  facets(filter: AgentFilter, visibleNames: readonly string[]): Promise<Facets> {
    return facetCounts(this.knex, filter, visibleNames);
  }

  /** Names of every live agent (for `apply --prune`). */
  async liveNames(): Promise<string[]> {
    const rows = (await this.knex("agents").whereNull("retired_at").orderBy("name")) as AgentRow[];
    return rows.map((row) => row.name);
  }
}
