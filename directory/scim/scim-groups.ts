import type { TeamGroup } from "../registry/index.js";
import { teamSlugOf } from "../registry/index.js";
import { invalidSyntax, invalidValue } from "./scim-errors.js";
import { getAttr } from "./scim-filter.js";

export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
const MAX_TEXT = 1_000;
type Json = Record<string, unknown>;

/** displayName (any case) → team slug, from SCIM_GROUP_MAP; else the slug made from the name. */
export type GroupMap = Readonly<Record<string, string>>;

export function slugForGroup(displayName: string, map: GroupMap): string | undefined {
  const wanted = displayName.trim().toLowerCase();
  const mapped = Object.entries(map).find(([name]) => name.trim().toLowerCase() === wanted);
  return mapped ? mapped[1] : teamSlugOf(displayName);
}

export interface GroupMemberRef {
  userId: string;
  email: string;
  displayName: string | null;
}

export function groupResource(group: TeamGroup, members: GroupMemberRef[], base: string): Json {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(group.externalId ? { externalId: group.externalId } : {}),
    displayName: group.name,
    members: members.map((m) => ({
      value: m.userId,
      $ref: `${base}/Users/${m.userId}`,
      display: m.displayName ?? m.email,
    })),
    meta: {
      resourceType: "Group",
      created: group.createdAt.toISOString(),
      lastModified: group.updatedAt.toISOString(),
      location: `${base}/Groups/${group.id}`,
    },
  };
}

export interface GroupFields {
  displayName: string;
  externalId: string | null;
  /** User ids; undefined when the body says nothing about members. */
  memberIds: string[] | undefined;
}

export function groupFields(body: unknown): GroupFields {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw invalidSyntax("Send a Group as a JSON object.");
  }
  const displayName = getAttr(body, "displayName");
  if (typeof displayName !== "string" || displayName.trim() === "") {
    throw invalidValue("displayName is required.");
  }
  if (displayName.length > MAX_TEXT) throw invalidValue("displayName is too long.");
  const externalId = getAttr(body, "externalId");
  if (externalId !== undefined && externalId !== null && typeof externalId !== "string") {
    throw invalidValue("externalId is a string.");
  }
  const members = getAttr(body as Json, "members");
  if (members !== undefined && members !== null && !Array.isArray(members)) {
    throw invalidValue("members is a list.");
  }
  const memberIds = Array.isArray(members)
    ? members.map((m) => {
        const value = getAttr(m, "value");
        if (typeof value !== "string") throw invalidValue('Each member has a "value": a User id.');
        return value;
      })
    : members === null
      ? []
      : undefined;
  return {
    displayName: displayName.trim(),
    externalId: (externalId as string | null | undefined) || null,
    memberIds: memberIds && [...new Set(memberIds)],
  };
}
