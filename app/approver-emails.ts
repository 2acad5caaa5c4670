import { type Authorizer, agentObject } from "../authz/index.js";
import type { ApproverQuery } from "../governance/index.js";

/**
 * The emails of the people who may decide an approval (holders of its OpenFGA relation),
 * asked afresh each time: the chat surfaces tell these people. Usersets and wildcards are
 * not people, so only `user:EMAIL` entries count.
 */
export function approverEmails(authorizer: Authorizer) {
  return async ({ relation, object }: ApproverQuery): Promise<string[]> =>
    (await authorizer.listUsers({ object, relation, userFilters: [{ type: "user" }] }))
      .map((user) => user.replace(/^user:/, ""))
      .filter((email) => email.includes("@"));
}

/**
 * The emails of an agent's owners, who are asked when someone requests access to it, asked
 * afresh each time, in two tiers: first its own owners (its owning team's admins, people
 * and teams' members named owners on it), then the other owners, the platform admins (who
 * own every agent). A surface asks the first tier it can reach, so platform admins are not
 * asked about every agent, only about one whose owners nobody can reach. Who may decide is
 * not changed by this: any owner's click counts (AccessRequests.mayDecide).
 */
export function ownerEmails(authorizer: Authorizer) {
  const emails = approverEmails(authorizer);
  return async (agentName: string): Promise<string[][]> => {
    const object = agentObject(agentName);
    const [teams, named, everyone] = await Promise.all([
      authorizer.read({ object, relation: "owner_team" }),
      authorizer.read({ object, relation: "owner" }),
      emails({ relation: "owner", object }),
    ]);
    const own = await Promise.all([
      ...teams.map((tuple) => emails({ relation: "admin", object: tuple.user })),
      ...named.map(async ({ user }) => {
        // `user:EMAIL`, or `team:T#member` (a team named owner: its members own it).
        if (user.startsWith("user:")) return [user.slice("user:".length)];
        const [team, relation] = user.split("#");
        return team && relation ? emails({ relation, object: team }) : [];
      }),
    ]);
    const first = [...new Set(own.flat())].filter((email) => email.includes("@")).sort();
    const rest = everyone.filter((email) => !first.includes(email)).sort();
    return [first, rest].filter((tier) => tier.length > 0);
  };
}
