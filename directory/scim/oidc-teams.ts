import type { TeamMemberships, Teams } from "../registry/index.js";
import { type GroupMap, slugForGroup } from "./scim-groups.js";

/**
 * OIDC_GROUPS_CLAIM at sign-in: the person's memberships with source `oidc` become exactly
 * the teams their groups map to (as SCIM groups map: SCIM_GROUP_MAP, else the name as a
 * slug), creating teams on first sight. Memberships from SCIM or added by hand are left alone.
 */
export function oidcTeamSync(parts: {
  teams: Teams;
  memberships: TeamMemberships;
  groupMap: GroupMap;
}) {
  return async (person: { id: string; email: string }, groups: readonly string[]) => {
    const wanted = [
      ...new Set(groups.flatMap((group) => slugForGroup(group, parts.groupMap) ?? [])),
    ];
    await parts.teams.ensure(wanted);
    const current = await parts.memberships.teamsFrom(person.id, "oidc");
    const who = { userId: person.id, email: person.email };
    for (const slug of wanted) {
      if (!current.includes(slug)) await parts.memberships.add(slug, who, "oidc");
    }
    for (const slug of current) {
      if (!wanted.includes(slug)) await parts.memberships.remove(slug, who, "oidc");
    }
  };
}
