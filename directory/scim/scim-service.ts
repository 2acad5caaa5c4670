import {
  type ProvisionedUser,
  ProvisioningRefusal,
  type UserDirectory,
} from "../../authz/index.js";
import { isSwitchboardError, isUuid } from "../../core/index.js";
import type { AuditLog } from "../../governance/index.js";
import type { TeamGroup, TeamMemberships, Teams } from "../registry/index.js";
import type { Deactivation } from "./deactivation.js";
import { invalidValue, resourceNotFound, ScimError, uniqueness } from "./scim-errors.js";
import { equalityOf, type Filter, matches } from "./scim-filter.js";
import {
  type GroupMap,
  type GroupMemberRef,
  groupFields,
  groupResource,
  slugForGroup,
} from "./scim-groups.js";
import { applyPatch, type PatchOperation } from "./scim-patch.js";
import { userFields, userResource } from "./scim-users.js";

type Json = Record<string, unknown>;

/** A list request: its filter, its page (startIndex is 1-based), and whether Groups need members. */
export interface ListQuery {
  filter: Filter | undefined;
  startIndex: number;
  count: number;
  members: boolean;
}

export interface ListPage {
  resources: Json[];
  total: number;
}

/** The attributes a lookup may name (lower-case, as SCIM ignores case) → what the owner matches. */
const USER_LOOKUPS = {
  id: "id",
  username: "userName",
  externalid: "externalId",
  displayname: "displayName",
} as const;
const GROUP_LOOKUPS = { id: "id", externalid: "externalId", displayname: "displayName" } as const;

/**
 * The rarer filters (`co`, `and`, value paths…) the database does not answer: every
 * resource is made and filtered here. Okta and Entra send only the lookups above.
 */
function filteredInMemory(all: Json[], query: ListQuery & { filter: Filter }): ListPage {
  const hits = all.filter((resource) => matches(query.filter, resource));
  const from = query.startIndex - 1;
  return { resources: hits.slice(from, from + query.count), total: hits.length };
}

/** How SCIM's changes are named in the audit log. */
export const SCIM_ACTOR = "system:scim";

export interface ScimServiceParts {
  users: UserDirectory;
  teams: Teams;
  memberships: TeamMemberships;
  deactivation: Deactivation;
  audit: AuditLog;
  groupMap: GroupMap;
}

/** Our errors in SCIM's words: a taken userName is `uniqueness`, a bad email `invalidValue`. */
function asScim(error: unknown): unknown {
  if (error instanceof ProvisioningRefusal)
    return new ScimError(400, error.message, error.scimType);
  if (isSwitchboardError(error)) {
    if (error.status === 409) return uniqueness(error.message);
    if (error.status === 400) return invalidValue(error.message);
  }
  return error;
}

async function scimErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asScim(error);
  }
}

/**
 * Users and Groups as the identity provider manages them: people through their owner
 * (UserDirectory), teams through theirs (Teams), memberships with source `scim` (a Group's
 * PUT or PATCH never touches a manual or OIDC membership), and a deactivated person through
 * `Deactivation`.
 */
export class ScimService {
  constructor(private readonly parts: ScimServiceParts) {}

  // ---- Users

  /** A page of Users: found and paged by the database for lookups and plain lists. */
  async listUsers(base: string, query: ListQuery): Promise<ListPage> {
    const match = equalityOf(query.filter, USER_LOOKUPS);
    if (query.filter && !match) {
      const all = (await this.parts.users.listProvisioned()).map((u) => userResource(u, base));
      return filteredInMemory(all, { ...query, filter: query.filter });
    }
    const { users, total } = await this.parts.users.pageProvisioned({
      match,
      offset: query.startIndex - 1,
      limit: query.count,
    });
    return { resources: users.map((u) => userResource(u, base)), total };
  }

  async getUser(id: string, base: string): Promise<Json> {
    return userResource(await this.user(id), base);
  }

  async createUser(body: unknown, base: string): Promise<Json> {
    const fields = userFields(body);
    const user = await scimErrors(() => this.parts.users.provision(fields));
    await this.parts.audit.record({
      actor: SCIM_ACTOR,
      action: "user.provisioned",
      targetType: "user",
      targetId: user.email,
      details: { userName: user.userName, active: user.isActive },
    });
    if (!user.isActive) await this.parts.deactivation.apply(user, SCIM_ACTOR);
    return userResource(user, base);
  }

  async replaceUser(id: string, body: unknown, base: string): Promise<Json> {
    const fields = userFields(body);
    if (!isUuid(id)) throw resourceNotFound("User");
    const changed = await scimErrors(() => this.parts.users.replaceProvisioned(id, fields));
    if (!changed) throw resourceNotFound("User");
    await this.afterChange(changed.before, changed.after);
    return userResource(changed.after, base);
  }

  async patchUser(id: string, operations: PatchOperation[], base: string): Promise<Json> {
    const current = userResource(await this.user(id), base);
    return this.replaceUser(id, applyPatch(current, operations), base);
  }

  async deleteUser(id: string): Promise<void> {
    if (!isUuid(id)) throw resourceNotFound("User");
    const user = await this.parts.users.deleteProvisioned(id);
    if (!user) throw resourceNotFound("User");
    await this.parts.deactivation.apply(user, SCIM_ACTOR);
    await this.parts.audit.record({
      actor: SCIM_ACTOR,
      action: "user.deprovisioned",
      targetType: "user",
      targetId: user.email,
    });
  }

  private async user(id: string): Promise<ProvisionedUser> {
    const user = isUuid(id) ? await this.parts.users.findProvisioned(id) : undefined;
    if (!user) throw resourceNotFound("User");
    return user;
  }

  private async afterChange(before: ProvisionedUser, after: ProvisionedUser): Promise<void> {
    if (before.isActive && !after.isActive) {
      await this.parts.deactivation.apply(after, SCIM_ACTOR);
    } else if (!before.isActive && after.isActive) {
      await this.parts.audit.record({
        actor: SCIM_ACTOR,
        action: "user.reactivated",
        targetType: "user",
        targetId: after.email,
      });
    }
  }

  // ---- Groups

  /**
   * A page of Groups, found and paged by the database for lookups and plain lists; members are
   * read for that page only, and not at all when the provider excludes them (Entra does).
   */
  async listGroups(base: string, query: ListQuery): Promise<ListPage> {
    const resourceOf = async (group: TeamGroup) =>
      groupResource(group, query.members ? await this.members(group) : [], base);
    const match = equalityOf(query.filter, GROUP_LOOKUPS);
    if (query.filter && !match) {
      // A filter may name members, so each Group is made with them.
      const groups = await this.parts.teams.listGroups();
      const all = await Promise.all(
        groups.map(async (g) => groupResource(g, await this.members(g), base)),
      );
      return filteredInMemory(all, { ...query, filter: query.filter });
    }
    const { groups, total } = await this.parts.teams.pageGroups({
      match,
      offset: query.startIndex - 1,
      limit: query.count,
    });
    return { resources: await Promise.all(groups.map(resourceOf)), total };
  }

  async getGroup(id: string, base: string): Promise<Json> {
    const group = await this.group(id);
    return groupResource(group, await this.members(group), base);
  }

  async createGroup(body: unknown, base: string): Promise<Json> {
    const fields = groupFields(body);
    const slug = slugForGroup(fields.displayName, this.parts.groupMap);
    if (!slug) {
      throw invalidValue("The Group's displayName has no letters or digits to name a team by.");
    }
    const people = await this.people(fields.memberIds ?? []);
    const group = await this.parts.teams.provisionGroup({
      slug,
      name: fields.displayName,
      externalId: fields.externalId,
    });
    if (!group) throw uniqueness(`Another Group already manages the team "${slug}".`);
    await this.parts.memberships.replace(group.slug, "scim", people);
    await this.parts.audit.record({
      actor: SCIM_ACTOR,
      action: "team.provisioned",
      targetType: "team",
      targetId: group.slug,
      details: { name: group.name, members: people.length },
    });
    return groupResource(group, await this.members(group), base);
  }

  async replaceGroup(id: string, body: unknown, base: string): Promise<Json> {
    const fields = groupFields(body);
    await this.group(id);
    const people = await this.people(fields.memberIds ?? []);
    const group = await this.parts.teams.updateGroup(id, {
      name: fields.displayName,
      externalId: fields.externalId,
    });
    if (!group) throw resourceNotFound("Group");
    // PUT replaces: a Group sent without members has none (from SCIM).
    await this.parts.memberships.replace(group.slug, "scim", people);
    return groupResource(group, await this.members(group), base);
  }

  async patchGroup(id: string, operations: PatchOperation[], base: string): Promise<Json> {
    const group = await this.group(id);
    const current = groupResource(group, await this.members(group), base);
    const next = applyPatch(current, operations);
    return this.replaceGroup(id, { ...next, members: next.members ?? [] }, base);
  }

  async deleteGroup(id: string): Promise<void> {
    const group = await this.group(id);
    await this.parts.memberships.replace(group.slug, "scim", []);
    await this.parts.teams.releaseGroup(id);
    await this.parts.audit.record({
      actor: SCIM_ACTOR,
      action: "team.deprovisioned",
      targetType: "team",
      targetId: group.slug,
    });
  }

  private async group(id: string): Promise<TeamGroup> {
    const group = await this.parts.teams.findGroup(id);
    if (!group) throw resourceNotFound("Group");
    return group;
  }

  /** The Group's members: the people SCIM made members of the team. */
  private async members(group: TeamGroup): Promise<GroupMemberRef[]> {
    const ids = await this.parts.memberships.userIdsFrom(group.slug, "scim");
    const people = await Promise.all(ids.map((id) => this.parts.users.findById(id)));
    return people.flatMap((p) =>
      p ? [{ userId: p.id, email: p.email, displayName: p.displayName }] : [],
    );
  }

  /** The people a Group names; a deactivated one gets no membership (they are refused anyway). */
  private async people(ids: readonly string[]): Promise<{ userId: string; email: string }[]> {
    const found = await Promise.all(
      ids.map(async (id) => (isUuid(id) ? this.parts.users.findProvisioned(id) : undefined)),
    );
    if (found.some((user) => !user)) {
      throw invalidValue("A member of the Group is not a User here: provision the User first.");
    }
    return (found as ProvisionedUser[])
      .filter((user) => user.isActive)
      .map((user) => ({ userId: user.id, email: user.email }));
  }
}
