import type { Knex } from "knex";
import {
  type Authorizer,
  agentObject,
  PLATFORM,
  type TupleKey,
  userPlacesOf,
} from "../../authz/index.js";
import { badRequest, conflict, echoInput, notFound } from "../../core/index.js";
import type { AuditLog } from "../../governance/index.js";
import {
  canonicalJson,
  ManifestError,
  type RuntimeSettingsCheck,
  type ValidatedManifest,
} from "../manifest/index.js";
import {
  type AgentUserPlace,
  accessTuplesFor,
  diffTuples,
  teamsNamedIn,
  tuplesNaming,
  without,
} from "./access-tuples.js";
import { AgentCatalog } from "./agent-catalog.js";
import {
  type Agent,
  type AgentRow,
  type AgentState,
  agentFromRow,
  columnsOf,
} from "./agent-record.js";
import { type AgentRegistration, Teams } from "./teams.js";

/** Problems with an agent's `spec.runtime` settings, as the runtime's adapter sees them. */
export type { RuntimeSettingsCheck };

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

export interface AgentRegistryOptions {
  /** The runtime adapters' own check of `spec.runtime`; unset: settings are not checked. */
  checkRuntime?: RuntimeSettingsCheck | undefined;
  /** Who may register agents (AGENT_REGISTRATION); default `team_members`. */
  registration?: AgentRegistration | undefined;
  /** Where the model lets an agent be a tuple's user; default: read from authz/model.fga. */
  agentUserPlaces?: readonly AgentUserPlace[] | undefined;
}

/** Who is making a change, for the audit log. */
export interface ChangeContext {
  /** `user:EMAIL` or `system:NAME` (see `actorOf`). */
  actor: string;
  requestId?: string | undefined;
  dryRun?: boolean;
  /**
   * Only a new agent (or the owner's retired one) may come of this: a live agent with the name
   * is a conflict, never an update. Creating checks the name first, but another registration
   * can land between that check and this one, and must not turn into an update of its agent.
   */
  createOnly?: boolean;
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
 * A name belongs to one live agent at a time. A retired agent keeps its row and history;
 * applying a manifest with its name brings it back ("restored", same id) only when the
 * manifest names the same owner, and otherwise registers a new agent (new id, no history).
 *
 * Tuples change before the row does: a refused or failed authorizer write leaves nothing
 * changed, and a failed database write puts the tuples back. Re-applying an unchanged
 * manifest repairs tuples that drifted.
 */
export class AgentRegistry {
  /** The runtime settings check manifests are validated with (the API validates with it too). */
  readonly checkRuntime: RuntimeSettingsCheck | undefined;
  private readonly agentUserPlaces: readonly AgentUserPlace[];
  /** The teams table and the tuples each team comes with. */
  readonly teams: Teams;
  /** Read-only queries over live agents: the catalog's pages, searches and facets. */
  readonly catalog: AgentCatalog;

  constructor(
    private readonly knex: Knex,
    private readonly authorizer: Authorizer,
    private readonly audit: AuditLog,
    options: AgentRegistryOptions = {},
  ) {
    this.checkRuntime = options.checkRuntime;
    this.agentUserPlaces = options.agentUserPlaces ?? userPlacesOf("agent");
    this.teams = new Teams(knex, authorizer, options.registration ?? "team_members");
    this.catalog = new AgentCatalog(knex);
  }

  /**
   * The live agent with this name. With `retired`, when none is live, the one retired last:
   * a name may have had several agents, one after another.
   */
  async find(name: string, options: { retired?: boolean } = {}): Promise<Agent | undefined> {
    const query = this.knex<AgentRow>("agents").where({ name });
    if (!options.retired) query.whereNull("retired_at");
    const row = (await query.orderByRaw("retired_at desc nulls first").first()) as
      | AgentRow
      | undefined;
    return row && agentFromRow(row);
  }

  /** The agent with this name and owner retired last: the one a manifest may restore. */
  async findRetired(name: string, owner: string): Promise<Agent | undefined> {
    const row = (await this.knex<AgentRow>("agents")
      .where({ name, owner })
      .whereNotNull("retired_at")
      .orderBy("retired_at", "desc")
      .first()) as AgentRow | undefined;
    return row && agentFromRow(row);
  }

  /** The agent by id, retired or not: runs and sessions keep pointing at it. */
  async findById(id: string): Promise<Agent | undefined> {
    const row = (await this.knex<AgentRow>("agents").where({ id }).first()) as AgentRow | undefined;
    return row && agentFromRow(row);
  }

  /** Every agent on one of these runtime types, retired ones too (their sandboxes may remain). */
  async withRuntimeTypes(types: readonly string[]): Promise<Agent[]> {
    if (types.length === 0) return [];
    const rows = (await this.knex<AgentRow>("agents").whereIn("runtime_type", [
      ...types,
    ])) as AgentRow[];
    return rows.map(agentFromRow);
  }

  async require(name: string): Promise<Agent> {
    const agent = await this.find(name);
    if (!agent) throw notFound(`The agent "${name}"`);
    return agent;
  }

  /**
   * Creates, updates or restores the agent a manifest describes; unchanged when the digest
   * matches. A live agent with the name is updated; else the owner's retired one is restored;
   * else a new agent is created, even when others once had the name.
   */
  async apply(entry: ValidatedManifest, context: ChangeContext): Promise<ApplyResult> {
    const { manifest, digest } = entry;
    const name = manifest.metadata.name;
    const runtimeProblems = this.checkRuntime?.(manifest.spec.runtime) ?? [];
    if (runtimeProblems.length > 0) {
      throw new ManifestError(
        runtimeProblems.map((problem) => ({ ...problem, file: entry.file, line: entry.line })),
      );
    }
    const live = await this.find(name);
    if (live && context.createOnly) throw raceLost(name);
    const retired = live ? undefined : await this.findRetired(name, manifest.metadata.owner);
    const existing = live ?? retired;
    const outcome: ApplyOutcome = !existing
      ? "created"
      : retired
        ? "restored"
        : existing.manifestDigest === digest
          ? "unchanged"
          : "updated";
    const changes = outcome === "unchanged" ? [] : changedFields(existing?.manifest, manifest);
    const stored = await this.authorizer.read({ object: agentObject(name) });
    const { writes, deletes } = diffTuples(stored, accessTuplesFor(manifest));
    const newTeams = await this.teams.unknown(teamsNamedIn(manifest));
    const result = { name, outcome, changes, granted: writes, revoked: deletes };
    if (context.dryRun) return { ...result, agent: existing };

    const teamTuples = this.teams.tuplesFor(newTeams);
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
          details: { agent_id: existing?.id, granted: writes.length, revoked: deletes.length },
          requestId: context.requestId,
        });
      }
      return { ...result, agent: existing };
    }
    try {
      const agent = await this.knex.transaction(async (trx) => {
        await this.teams.insert(newTeams, trx);
        const row = await this.writeRow(trx, { ...columnsOf(manifest, digest) }, existing);
        await this.audit.record(
          {
            actor: context.actor,
            action: `agent.${outcome}`,
            targetType: "agent",
            targetId: name,
            details: {
              agent_id: row.id,
              changes,
              digest,
              granted: writes.length,
              revoked: deletes.length,
            },
            requestId: context.requestId,
          },
          trx,
        );
        return agentFromRow(row);
      });
      return { ...result, agent };
    } catch (error) {
      // Best effort: put access back as it was; the error that matters is the first one. When
      // another registration of the name won a race, the grants it wants stay: it wrote them
      // before its row, so before this one's insert failed.
      const raced = isUniqueViolation(error);
      const winner = raced ? await this.find(name).catch(() => undefined) : undefined;
      const undo = winner ? without(writes, accessTuplesFor(winner.manifest)) : writes;
      await this.authorizer.write(deletes, undo).catch(() => {});
      if (raced) throw raceLost(name);
      throw error;
    }
  }

  /** Inserts a new agent, or updates (and for a retired one, restores) the existing row. */
  private async writeRow(
    trx: Knex.Transaction,
    columns: ReturnType<typeof columnsOf>,
    existing: Agent | undefined,
  ): Promise<AgentRow> {
    const changed = { ...columns, updated_at: trx.fn.now() };
    const query = existing
      ? trx("agents")
          .where({ id: existing.id })
          // A restored agent starts afresh: enabled, whatever state it was retired in, and
          // not featured until platform admins feature it again.
          .update(
            existing.retiredAt
              ? {
                  ...changed,
                  retired_at: null,
                  state: "enabled",
                  state_reason: null,
                  featured: false,
                }
              : changed,
          )
      : trx("agents").insert({ ...changed, state: "enabled" });
    const [row] = (await query.returning("*")) as AgentRow[];
    return row as AgentRow;
  }

  /**
   * Takes an agent out of the directory: every tuple naming it goes (its access, and what was
   * granted to it), so nobody who later registers its name inherits any of them; its row
   * stays for history.
   */
  async retire(name: string, context: ChangeContext): Promise<Agent> {
    const agent = await this.require(name);
    if (context.dryRun) return agent;
    const stored = await tuplesNaming(this.authorizer, name, this.agentUserPlaces);
    if (stored.length > 0) await this.authorizer.write([], stored);
    try {
      return await this.knex.transaction(async (trx) => {
        const [row] = (await trx("agents")
          .where({ id: agent.id })
          .update({ retired_at: trx.fn.now(), updated_at: trx.fn.now() })
          .returning("*")) as AgentRow[];
        await this.audit.record(
          {
            actor: context.actor,
            action: "agent.retired",
            targetType: "agent",
            targetId: name,
            details: { agent_id: agent.id, revoked: stored.length },
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

  /**
   * Grants or revokes one tuple by hand: `switchboard authz grant|revoke` and the admin page
   * both come here, so both refuse the same things in the same words and audit the same way.
   * Access to an agent no one registered would wait silently for whoever takes the name next,
   * so a grant needs a live agent (a revoke stays possible, to clean up after one is retired).
   * The last platform admin cannot be removed: no one could then make another. Making someone
   * a member or admin of a team brings the team into being if no manifest named it yet.
   */
  async changeAccess(
    change: "grant" | "revoke",
    tuple: TupleKey,
    context: ChangeContext,
  ): Promise<void> {
    const agent = /^agent:(.+)$/.exec(tuple.object)?.[1];
    if (change === "grant" && agent !== undefined && !(await this.find(agent)))
      throw badRequest(`There is no agent called "${echoInput(agent)}".`);
    if (change === "revoke" && tuple.object === PLATFORM && tuple.relation === "admin") {
      const admins = await this.authorizer.read({ object: PLATFORM, relation: "admin" });
      if (admins.some((t) => t.user === tuple.user) && admins.length <= 1)
        throw conflict(`${tuple.user} is the last platform admin; make someone else one first.`);
    }
    if (change === "grant") await this.authorizer.write([tuple]);
    else await this.authorizer.write([], [tuple]);
    const team = /^team:([^#]+)$/.exec(tuple.object)?.[1];
    if (change === "grant" && team && ["member", "admin"].includes(tuple.relation))
      await this.teams.ensure([team]);
    await this.audit.record({
      actor: context.actor,
      action: change === "grant" ? "authz.granted" : "authz.revoked",
      targetType: tuple.object.split(":")[0],
      targetId: tuple.object.slice(tuple.object.indexOf(":") + 1),
      details: { ...tuple },
      requestId: context.requestId,
    });
  }

  /** Platform admins' emails, sorted: the admin page lists them. */
  async platformAdmins(): Promise<string[]> {
    const tuples = await this.authorizer.read({ object: PLATFORM, relation: "admin" });
    return tuples.map((t) => t.user.replace(/^user:/, "")).sort();
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

function raceLost(name: string) {
  return conflict(`An agent named "${name}" was registered at the same moment; try again.`);
}

/** PostgreSQL's unique_violation (from pg and PGlite alike). */
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "23505";
}
