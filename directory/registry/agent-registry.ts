import type { Knex } from "knex";
import { type Authorizer, agentObject, type TupleKey } from "../../authz/index.js";
import { notFound } from "../../core/index.js";
import type { AuditLog } from "../../governance/index.js";
import { canonicalJson, ManifestError, type ValidatedManifest } from "../manifest/index.js";
import { accessTuplesFor, diffTuples, teamPlatformTuple, teamsNamedIn } from "./access-tuples.js";
import {
  type Agent,
  type AgentRow,
  type AgentState,
  agentFromRow,
  columnsOf,
} from "./agent-record.js";
import { type AgentFilter, type Facets, facetCounts, whereMatches } from "./agent-search.js";

/** Problems with an agent's `spec.runtime` settings, as the runtime's adapter sees them. */
export type RuntimeSettingsCheck = (
  runtime: { type: string } & Record<string, unknown>,
) => { path: string; message: string }[];

export type ApplyOutcome = "created" | "updated" | "restored" | "unchanged";

export interface ApplyResult {
  name: string;
  outcome: ApplyOutcome;
  /** Top-level fields that changed, e.g. `metadata.title`, `spec.access`. */
  changes: string[];
  /** Access tuples written and removed (including repairs of an unchanged agent). */
  granted: TupleKey[];
  revoked: TupleKey[];
  agent: Agent | undefined;
}

/** Who is making a change, for the audit log. */
export interface ChangeContext {
  /** `user:EMAIL` or `system:NAME` (see `actorOf`). */
  actor: string;
  requestId?: string | undefined;
  dryRun?: boolean;
}

/** Fields of `metadata` and `spec` whose values differ. */
function changedFields(before: Agent["manifest"] | undefined, after: Agent["manifest"]): string[] {
  const fields: string[] = [];
  for (const section of ["metadata", "spec"] as const) {
    const keys = new Set([...Object.keys(before?.[section] ?? {}), ...Object.keys(after[section])]);
    for (const key of [...keys].sort()) {
      const a = (before?.[section] as Record<string, unknown> | undefined)?.[key];
      const b = (after[section] as Record<string, unknown>)[key];
      if (canonicalJson(a) !== canonicalJson(b)) fields.push(`${section}.${key}`);
    }
  }
  return fields;
}

/**
 * The agents table and the access tuples that go with it, kept in step. No permission
 * checks here: callers decide who may ask (the CLI acts as the operator; `AgentDirectory`
 * checks a person's rights first).
 *
 * Tuples change before the row does: a refused or failed authorizer write leaves nothing
 * changed, and a failed database write puts the tuples back. Re-applying an unchanged
 * manifest repairs tuples that drifted.
 */
export class AgentRegistry {
  constructor(
    private readonly knex: Knex,
    private readonly authorizer: Authorizer,
    private readonly audit: AuditLog,
    /** The runtime adapters' own check of `spec.runtime`; unset: settings are not checked. */
    private readonly checkRuntime?: RuntimeSettingsCheck,
  ) {}

  /** The agent by name; retired ones only when asked for. */
  async find(name: string, options: { retired?: boolean } = {}): Promise<Agent | undefined> {
    const query = this.knex<AgentRow>("agents").where({ name });
    if (!options.retired) query.whereNull("retired_at");
    const row = (await query.first()) as AgentRow | undefined;
    return row && agentFromRow(row);
  }

  /** The agent by id, retired or not: runs and sessions keep pointing at it. */
  async findById(id: string): Promise<Agent | undefined> {
    const row = (await this.knex<AgentRow>("agents").where({ id }).first()) as AgentRow | undefined;
    return row && agentFromRow(row);
  }

  async require(name: string): Promise<Agent> {
    const agent = await this.find(name);
    if (!agent) throw notFound(`The agent "${name}"`);
    return agent;
  }

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

  /** Creates, updates or restores the agent a manifest describes; unchanged when the digest matches. */
  async apply(entry: ValidatedManifest, context: ChangeContext): Promise<ApplyResult> {
    const { manifest, digest } = entry;
    const name = manifest.metadata.name;
    const runtimeProblems = this.checkRuntime?.(manifest.spec.runtime) ?? [];
    if (runtimeProblems.length > 0) {
      throw new ManifestError(
        runtimeProblems.map((problem) => ({ ...problem, file: entry.file, line: entry.line })),
      );
    }
    const existing = await this.find(name, { retired: true });
    const outcome: ApplyOutcome = !existing
      ? "created"
      : existing.retiredAt
        ? "restored"
        : existing.manifestDigest === digest
          ? "unchanged"
          : "updated";
    const changes = outcome === "unchanged" ? [] : changedFields(existing?.manifest, manifest);
    const stored = await this.authorizer.read({ object: agentObject(name) });
    const { writes, deletes } = diffTuples(stored, accessTuplesFor(manifest));
    const teams = teamsNamedIn(manifest);
    const knownTeams = new Set(
      ((await this.knex("teams").whereIn("slug", teams).select("slug")) as { slug: string }[]).map(
        (row) => row.slug,
      ),
    );
    const newTeams = teams.filter((slug) => !knownTeams.has(slug));
    const result = { name, outcome, changes, granted: writes, revoked: deletes };
    if (context.dryRun) return { ...result, agent: existing };

    const teamTuples = newTeams.map(teamPlatformTuple);
    if (writes.length + deletes.length + teamTuples.length > 0) {
      await this.authorizer.write([...writes, ...teamTuples], deletes);
    }
    if (outcome === "unchanged") {
      if (writes.length + deletes.length > 0) {
        await this.audit.record({
          actor: context.actor,
          action: "agent.access_repaired",
          targetType: "agent",
          targetId: name,
          details: { granted: writes.length, revoked: deletes.length },
          requestId: context.requestId,
        });
      }
      return { ...result, agent: existing };
    }
    try {
      const agent = await this.knex.transaction(async (trx) => {
        if (newTeams.length > 0) {
          await trx("teams")
            .insert(newTeams.map((slug) => ({ slug, name: slug })))
            .onConflict("slug")
            .ignore();
        }
        const columns = { ...columnsOf(manifest, digest), updated_at: trx.fn.now() };
        const [row] = (await trx("agents")
          .insert({ ...columns, state: "enabled" })
          .onConflict("name")
          // A restored agent starts afresh: enabled, whatever state it was retired in, and
          // not featured (whoever registers the name again did not earn that).
          .merge(
            outcome === "restored"
              ? {
                  ...columns,
                  retired_at: null,
                  state: "enabled",
                  state_reason: null,
                  featured: false,
                }
              : columns,
          )
          .returning("*")) as AgentRow[];
        await this.audit.record(
          {
            actor: context.actor,
            action: `agent.${outcome}`,
            targetType: "agent",
            targetId: name,
            details: { changes, digest, granted: writes.length, revoked: deletes.length },
            requestId: context.requestId,
          },
          trx,
        );
        return agentFromRow(row as AgentRow);
      });
      return { ...result, agent };
    } catch (error) {
      // Best effort: put access back as it was; the error that matters is the first one.
      await this.authorizer.write(deletes, writes).catch(() => {});
      throw error;
    }
  }

  /** Takes an agent out of the directory: its access goes, its row stays for history. */
  async retire(name: string, context: ChangeContext): Promise<Agent> {
    const agent = await this.require(name);
    if (context.dryRun) return agent;
    const stored = await this.authorizer.read({ object: agentObject(name) });
    if (stored.length > 0) await this.authorizer.write([], stored);
    try {
      return await this.knex.transaction(async (trx) => {
        const [row] = (await trx("agents")
          .where({ name })
          .update({ retired_at: trx.fn.now(), updated_at: trx.fn.now() })
          .returning("*")) as AgentRow[];
        await this.audit.record(
          {
            actor: context.actor,
            action: "agent.retired",
            targetType: "agent",
            targetId: name,
            requestId: context.requestId,
          },
          trx,
        );
        return agentFromRow(row as AgentRow);
      });
    } catch (error) {
      await this.authorizer.write(stored, []).catch(() => {});
      throw error;
    }
  }

  /** Enables, suspends or disables an agent, with the reason shown to people. */
  async setState(
    name: string,
    state: AgentState,
    reason: string | undefined,
    context: ChangeContext,
  ): Promise<Agent> {
    return this.changeLive(
      name,
      { state, state_reason: reason ?? null },
      { action: `agent.${state}`, details: reason ? { reason } : {} },
      context,
    );
  }

  /**
   * Features an agent, or stops featuring it: a platform admin's call (the CLI acts as the
   * operator). Featured agents are offered in chat by name to everyone who may run them.
   */
  async setFeatured(name: string, featured: boolean, context: ChangeContext): Promise<Agent> {
    return this.changeLive(
      name,
      { featured },
      { action: featured ? "agent.featured" : "agent.unfeatured", details: {} },
      context,
    );
  }

  /** Changes columns of a live agent that no manifest decides, with its audit entry. */
  private async changeLive(
    name: string,
    columns: Record<string, unknown>,
    audit: { action: string; details: Record<string, unknown> },
    context: ChangeContext,
  ): Promise<Agent> {
    await this.require(name);
    return this.knex.transaction(async (trx) => {
      const [row] = (await trx("agents")
        .where({ name })
        .whereNull("retired_at")
        .update({ ...columns, updated_at: trx.fn.now() })
        .returning("*")) as AgentRow[];
      await this.audit.record(
        {
          actor: context.actor,
          action: audit.action,
          targetType: "agent",
          targetId: name,
          details: audit.details,
          requestId: context.requestId,
        },
        trx,
      );
      return agentFromRow(row as AgentRow);
    });
  }
}
