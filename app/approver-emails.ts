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
 * The emails of an agent's owners (its owning team's admins, owners named on it, platform
 * admins): who is asked when someone requests access to it, asked afresh each time.
 */
export function ownerEmails(authorizer: Authorizer) {
  const emails = approverEmails(authorizer);
  return (agentName: string) => emails({ relation: "owner", object: agentObject(agentName) });
}
