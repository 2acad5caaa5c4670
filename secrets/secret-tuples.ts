import { type Authorizer, agentObject, PLATFORM, type TupleKey } from "../authz/index.js";
import { secretObject } from "./secret-names.js";

/** The relation naming the agents that may use a secret (authz/model.fga). */
export const USED_BY = "used_by";

/**
 * A secret's tuples in the authorizer: who owns it (a person, or a team whose admins own
 * it; platform admins always) and which agents may use it. The `secrets` table holds
 * neither: the authorizer decides, on every path.
 */
export class SecretTuples {
  constructor(private readonly authorizer: Authorizer) {}

  /** Its owner's tuples, after removing any a deleted namesake left, so no grant carries over. */
  async own(name: string, owner: string): Promise<void> {
    await this.clear(name);
    const object = secretObject(name);
    await this.authorizer.write([
      { user: PLATFORM, relation: "platform", object },
      owner.startsWith("team:")
        ? { user: owner, relation: "owner_team", object }
        : { user: owner, relation: "owner", object },
    ]);
  }

  grant(name: string, agent: string): Promise<void> {
    return this.authorizer.write([usedBy(name, agent)]);
  }

  revoke(name: string, agent: string): Promise<void> {
    return this.authorizer.write([], [usedBy(name, agent)]);
  }

  /** The names of the agents that may use it, sorted. */
  async agentsOf(name: string): Promise<string[]> {
    const tuples = await this.authorizer.read({ object: secretObject(name), relation: USED_BY });
    return tuples.map((tuple) => tuple.user.slice("agent:".length)).sort();
  }

  /** Every tuple of the secret: its owner's and its grants. */
  async clear(name: string): Promise<void> {
    const stale = await this.authorizer.read({ object: secretObject(name) });
    if (stale.length > 0) await this.authorizer.write([], stale);
  }
}

function usedBy(secret: string, agent: string): TupleKey {
  return { user: agentObject(agent), relation: USED_BY, object: secretObject(secret) };
}
