import type { Knex } from "knex";
import { type Authorizer, type TupleKey, userSubject } from "../../authz/index.js";

/** Where a membership came from: the identity provider (SCIM), an OIDC groups claim, or a person. */
export type MembershipSource = "scim" | "oidc" | "manual";

export interface Person {
  userId: string;
  email: string;
}

export interface TeamMember {
  /** Undefined for a member granted by hand to an email Switchboard has not seen sign in. */
  userId: string | undefined;
  email: string;
  displayName: string | null;
  isActive: boolean;
  sources: MembershipSource[];
}

const memberTuple = (slug: string, email: string): TupleKey => ({
  user: userSubject(email),
  relation: "member",
  object: `team:${slug}`,
});

const SOURCES_ORDER: MembershipSource[] = ["manual", "scim", "oidc"];

/**
 * The `team_memberships` table: one row per (team, person, source). The OpenFGA tuple
 * `team:SLUG#member` is what grants; it is written with a person's first source and deleted
 * with their last, so one source never takes away a membership another gave. A membership
 * found as a tuple with no row predates this table (granted by hand with `switchboard authz
 * grant`): it is recorded as manual the first time another source touches it, so SCIM never
 * removes it.
 */
export class TeamMemberships {
  constructor(
    private readonly knex: Knex,
    private readonly authorizer: Authorizer,
  ) {}

  /** Adds the person to the team from this source (the team must exist). */
  async add(slug: string, person: Person, source: MembershipSource): Promise<void> {
    const tuple = memberTuple(slug, person.email);
    const rows = await this.sourcesOf(slug, person.userId);
    // A direct tuple without a row was granted by hand before this table existed.
    if (
      rows.length === 0 &&
      source !== "manual" &&
      (await this.authorizer.read(tuple)).length > 0
    ) {
      await this.insert(slug, person.userId, "manual");
    }
    await this.authorizer.write([tuple]);
    await this.insert(slug, person.userId, source);
  }

  /** Takes away this source's membership; the tuple goes only if no other source remains. */
  async remove(slug: string, person: Person, source: MembershipSource): Promise<void> {
    const deleted = await this.knex("team_memberships")
      .where({ team_slug: slug, user_id: person.userId, source })
      .delete();
    if (deleted === 0) return;
    if ((await this.sourcesOf(slug, person.userId)).length === 0) {
      await this.authorizer.write([], [memberTuple(slug, person.email)]);
    }
  }

  /** Makes this source's members of the team exactly these people. */
  async replace(slug: string, source: MembershipSource, people: readonly Person[]): Promise<void> {
    const current = new Set(await this.userIdsFrom(slug, source));
    const wanted = new Set(people.map((p) => p.userId));
    for (const person of people) {
      if (!current.has(person.userId)) await this.add(slug, person, source);
    }
    const gone = [...current].filter((id) => !wanted.has(id));
    if (gone.length === 0) return;
    const emails = (await this.knex("users").whereIn("id", gone).select("id", "email")) as {
      id: string;
      email: string;
    }[];
    for (const row of emails) await this.remove(slug, { userId: row.id, email: row.email }, source);
  }

  /** The people this source made members of the team. */
  async userIdsFrom(slug: string, source: MembershipSource): Promise<string[]> {
    const rows = (await this.knex("team_memberships")
      .where({ team_slug: slug, source })
      .orderBy("created_at")
      .select("user_id")) as { user_id: string }[];
    return rows.map((row) => row.user_id);
  }

  /** The teams this source made the person a member of. */
  async teamsFrom(userId: string, source: MembershipSource): Promise<string[]> {
    const rows = (await this.knex("team_memberships")
      .where({ user_id: userId, source })
      .select("team_slug")) as { team_slug: string }[];
    return rows.map((row) => row.team_slug);
  }

  /**
   * Everyone in the team and where each membership came from, for the team page: rows of
   * this table, and members granted by hand before it existed (as manual).
   */
  async members(slug: string): Promise<TeamMember[]> {
    const rows = (await this.knex("team_memberships as m")
      .join("users as u", "u.id", "m.user_id")
      .where("m.team_slug", slug)
      .select(
        "u.id",
        "u.email",
        "u.display_name",
        "u.is_active",
        "u.scim_deleted_at",
        "m.source",
      )) as {
      id: string;
      email: string;
      display_name: string | null;
      is_active: boolean;
      scim_deleted_at: Date | null;
      source: MembershipSource;
    }[];
    const byEmail = new Map<string, TeamMember>();
    for (const row of rows) {
      const member = byEmail.get(row.email) ?? {
        userId: row.id,
        email: row.email,
        displayName: row.display_name,
        isActive: row.is_active && !row.scim_deleted_at,
        sources: [],
      };
      member.sources.push(row.source);
      byEmail.set(row.email, member);
    }
    const tuples = await this.authorizer.read({ relation: "member", object: `team:${slug}` });
    const untracked = tuples
      .map((t) => /^user:(.+)$/.exec(t.user)?.[1])
      .filter((email): email is string => !!email && !byEmail.has(email));
    if (untracked.length > 0) {
      const users = (await this.knex("users").whereIn("email", untracked)) as {
        id: string;
        email: string;
        display_name: string | null;
        is_active: boolean;
        scim_deleted_at: Date | null;
      }[];
      for (const email of untracked) {
        const user = users.find((u) => u.email === email);
        byEmail.set(email, {
          userId: user?.id,
          email,
          displayName: user?.display_name ?? null,
          isActive: user ? user.is_active && !user.scim_deleted_at : true,
          sources: ["manual"],
        });
      }
    }
    return [...byEmail.values()]
      .map((m) => ({
        ...m,
        sources: SOURCES_ORDER.filter((s) => m.sources.includes(s)),
      }))
      .sort((a, b) => a.email.localeCompare(b.email));
  }

  /**
   * A deactivated person leaves every team at once, whatever the source: their rows and
   * their member and admin tuples. Reactivation does not bring them back.
   */
  async removeEverywhere(person: Person): Promise<string[]> {
    await this.knex("team_memberships").where({ user_id: person.userId }).delete();
    const subject = userSubject(person.email);
    const tuples = [
      ...(await this.authorizer.read({ user: subject, relation: "member", object: "team:" })),
      ...(await this.authorizer.read({ user: subject, relation: "admin", object: "team:" })),
    ];
    if (tuples.length > 0) await this.authorizer.write([], tuples);
    return [...new Set(tuples.map((t) => t.object.slice("team:".length)))];
  }

  private async sourcesOf(slug: string, userId: string): Promise<MembershipSource[]> {
    const rows = (await this.knex("team_memberships")
      .where({ team_slug: slug, user_id: userId })
      .select("source")) as { source: MembershipSource }[];
    return rows.map((row) => row.source);
  }

  private async insert(slug: string, userId: string, source: MembershipSource): Promise<void> {
    await this.knex("team_memberships")
      .insert({ team_slug: slug, user_id: userId, source })
      .onConflict(["team_slug", "user_id", "source"])
      .ignore();
  }
}
