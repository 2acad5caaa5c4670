import type { Knex } from "knex";
import { type Authorizer, PLATFORM, type TupleKey } from "../../authz/index.js";
import { isUuid } from "../../core/index.js";

/**
 * Who may register agents (`platform:switchboard#agent_registrar` in the model):
 * `team_members`, the default, is the members of every team and platform admins;
 * `admins` is platform admins only. Either way a registrar must also be allowed to act as
 * the agent's owner, and a person named a registrar by hand (`switchboard authz grant EMAIL
 * agent_registrar platform:switchboard`) stays one.
 */
export type AgentRegistration = "team_members" | "admins";

const REGISTRARS: Record<AgentRegistration, { who: string; ask: string }> = {
  team_members: {
    who: "members of a team and platform admins",
    ask: "ask a platform admin to add you to a team",
  },
  admins: { who: "platform admins", ask: "ask one to register the agent for you" },
};

/** Who may register agents, in words: for the site, and for the person who may not. */
export function registrarsInWords(registration: AgentRegistration): {
  who: string;
  refusal: string;
} {
  const { who, ask } = REGISTRARS[registration];
  return { who, refusal: `Only ${who} may register agents here: ${ask}.` };
}

/** The tuple that lets platform admins reach a team, written when the team is created. */
export const teamPlatformTuple = (slug: string): TupleKey => ({
  user: PLATFORM,
  relation: "platform",
  object: `team:${slug}`,
});

/** The tuple that makes a team's members registrars of agents. */
export const teamRegistrarTuple = (slug: string): TupleKey => ({
  user: `team:${slug}#member`,
  relation: "agent_registrar",
  object: PLATFORM,
});

const TEAM_MEMBERS = /^team:([^#]+)#member$/;

/** A team as the identity provider manages it (a SCIM Group). */
export interface TeamGroup {
  id: string;
  slug: string;
  /** The group's displayName; a team a manifest made is named by its slug. */
  name: string;
  externalId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface TeamRow {
  id: string;
  slug: string;
  name: string;
  scim_external_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const toGroup = (row: TeamRow): TeamGroup => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  externalId: row.scim_external_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * A team's slug from a group's name: lowercased, each run of other characters turned into
 * `-`, trimmed of `-` ("Platform Eng (EU)" → "platform-eng-eu"). Undefined when nothing is left.
 */
export function teamSlugOf(displayName: string): string | undefined {
  const slug = displayName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug === "" ? undefined : slug;
}

/**
 * The `teams` table and the tuples every team comes with. A team comes into being when a
 * manifest first names it or when someone is made its member with `switchboard authz grant`.
 */
export class Teams {
  constructor(
    private readonly knex: Knex,
    private readonly authorizer: Authorizer,
    readonly registration: AgentRegistration,
  ) {}

  /** The slugs among these that have no row yet. */
  async unknown(slugs: readonly string[]): Promise<string[]> {
    if (slugs.length === 0) return [];
    const rows = (await this.knex("teams").whereIn("slug", slugs).select("slug")) as {
      slug: string;
    }[];
    const known = new Set(rows.map((row) => row.slug));
    return slugs.filter((slug) => !known.has(slug));
  }

  /** The tuples new teams come with. */
  tuplesFor(slugs: readonly string[]): TupleKey[] {
    return slugs.flatMap((slug) =>
      this.registration === "team_members"
        ? [teamPlatformTuple(slug), teamRegistrarTuple(slug)]
        : [teamPlatformTuple(slug)],
    );
  }

  /** Adds the rows of new teams (inside the caller's transaction). */
  async insert(slugs: readonly string[], trx: Knex = this.knex): Promise<void> {
    if (slugs.length === 0) return;
    await trx("teams")
      .insert(slugs.map((slug) => ({ slug, name: slug })))
      .onConflict("slug")
      .ignore();
  }

  /** Makes sure the teams exist, with their tuples: resolves to the slugs that were new. */
  async ensure(slugs: readonly string[]): Promise<string[]> {
    const fresh = await this.unknown(slugs);
    if (fresh.length === 0) return [];
    await this.authorizer.write(this.tuplesFor(fresh));
    await this.insert(fresh);
    return fresh;
  }

  /**
   * Makes the registrar tuples of teams match the setting: under `team_members` every team
   * with a row names its members (teams registered before this setting existed included);
   * under `admins` no team does. Registrars named by hand are left alone.
   */
  async syncRegistrars(): Promise<{ added: string[]; removed: string[] }> {
    const stored = await this.authorizer.read({ object: PLATFORM, relation: "agent_registrar" });
    const have = new Set(stored.flatMap((t) => TEAM_MEMBERS.exec(t.user)?.[1] ?? []));
    if (this.registration === "admins") {
      const removed = [...have];
      if (removed.length > 0) await this.authorizer.write([], removed.map(teamRegistrarTuple));
      return { added: [], removed };
    }
    const rows = (await this.knex("teams").select("slug").orderBy("slug")) as { slug: string }[];
    const added = rows.map((row) => row.slug).filter((slug) => !have.has(slug));
    if (added.length > 0) await this.authorizer.write(added.map(teamRegistrarTuple));
    return { added, removed: [] };
  }

  // ---- Teams the identity provider manages (SCIM Groups).

  async listGroups(): Promise<TeamGroup[]> {
    const rows = (await this.knex("teams")
      .whereNotNull("scim_provisioned_at")
      .orderBy([{ column: "created_at" }, { column: "id" }])) as TeamRow[];
    return rows.map(toGroup);
  }

  /**
   * A page of the teams that are SCIM Groups, oldest first, and how many there are in all,
   * found and paged by the database. displayName ignores case; id and externalId do not.
   */
  async pageGroups(query: {
    match?: { field: "id" | "displayName" | "externalId"; value: string } | undefined;
    offset: number;
    limit: number;
  }): Promise<{ groups: TeamGroup[]; total: number }> {
    const { match } = query;
    if (match?.field === "id" && !isUuid(match.value)) return { groups: [], total: 0 };
    const matching = this.knex("teams").whereNotNull("scim_provisioned_at");
    if (match?.field === "id") matching.where({ id: match.value });
    if (match?.field === "externalId") matching.where({ scim_external_id: match.value });
    if (match?.field === "displayName") matching.whereRaw("lower(name) = lower(?)", [match.value]);
    const [counted] = (await matching.clone().count({ count: "*" })) as { count: string }[];
    const rows =
      query.limit === 0
        ? []
        : ((await matching
            .orderBy([{ column: "created_at" }, { column: "id" }])
            .offset(query.offset)
            .limit(query.limit)) as TeamRow[]);
    return { groups: rows.map(toGroup), total: Number(counted?.count ?? 0) };
  }

  async findGroup(id: string): Promise<TeamGroup | undefined> {
    if (!isUuid(id)) return undefined;
    const row = (await this.knex("teams")
      .where({ id })
      .whereNotNull("scim_provisioned_at")
      .first()) as TeamRow | undefined;
    return row && toGroup(row);
  }

  async findBySlug(slug: string): Promise<TeamGroup | undefined> {
    const row = (await this.knex("teams").where({ slug }).first()) as TeamRow | undefined;
    return row && toGroup(row);
  }

  /**
   * The identity provider takes on the team with this slug (making it, with its tuples, if
   * new). Undefined when another Group already manages that team.
   */
  async provisionGroup(input: {
    slug: string;
    name: string;
    externalId: string | null;
  }): Promise<TeamGroup | undefined> {
    await this.ensure([input.slug]);
    const [row] = (await this.knex("teams")
      .where({ slug: input.slug })
      .whereNull("scim_provisioned_at")
      .update({
        name: input.name,
        scim_external_id: input.externalId,
        scim_provisioned_at: this.knex.fn.now(),
        updated_at: this.knex.fn.now(),
      })
      .returning("*")) as TeamRow[];
    return row && toGroup(row);
  }

  /** A renamed Group renames the team; its slug (what grants and manifests name) stays. */
  async updateGroup(
    id: string,
    input: { name: string; externalId: string | null },
  ): Promise<TeamGroup | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = (await this.knex("teams")
      .where({ id })
      .whereNotNull("scim_provisioned_at")
      .update({
        name: input.name,
        scim_external_id: input.externalId,
        updated_at: this.knex.fn.now(),
      })
      .returning("*")) as TeamRow[];
    return row && toGroup(row);
  }

  /** The provider lets go of the team: it stays (agents may be owned by it), unmanaged. */
  async releaseGroup(id: string): Promise<TeamGroup | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = (await this.knex("teams")
      .where({ id })
      .whereNotNull("scim_provisioned_at")
      .update({ scim_provisioned_at: null, scim_external_id: null, updated_at: this.knex.fn.now() })
      .returning("*")) as TeamRow[];
    return row && toGroup(row);
  }
}
