/**
 * ListUsers: every user of a type (or every userset `type:id#relation`) with a relation
 * on an object.
 *
 * Like OpenFGA, it expands forward from `object#relation` through the tuples the model
 * still allows, following usersets and tuple-to-userset parents; a visited `object#relation`
 * matching a userset filter is itself a result, and a typed wildcard is reported as `type:*`
 * (not as every user). That yields candidates; each is then confirmed by a Check sharing
 * one resolver, which settles intersections, exclusions (a wildcard minus one user is still
 * the wildcard) and cycles exactly as Check does.
 */

import type { UserFilter } from "../types.js";
import { type CheckResolver, Outcome } from "./check-resolver.js";
import { AuthzError } from "./errors.js";
import { classifyStoredUser, typeOf, usersetOf } from "./identifiers.js";
import type { AuthorizationModel, RelationDefinition, Rewrite } from "./model.js";
import type { TupleReader } from "./tuple-reader.js";

export interface ListUsersQuery {
  object: string;
  relation: string;
  filter: UserFilter;
}

export function listUsers(
  model: AuthorizationModel,
  reader: TupleReader,
  resolver: CheckResolver,
  query: ListUsersQuery,
): string[] {
  const allowed: string[] = [];
  for (const candidate of candidateUsers(model, reader, query)) {
    const outcome = resolver.check(query.object, query.relation, candidate);
    if (outcome === Outcome.tooDeep) {
      throw new AuthzError(
        "resolution_too_complex",
        `Listing users with ${query.relation} on ${query.object} needs more than 25 levels of resolution.`,
      );
    }
    if (outcome === Outcome.allowed) allowed.push(candidate);
  }
  return allowed;
}

/** Users matching the filter that might hold the relation: a superset of the answer. */
export function candidateUsers(
  model: AuthorizationModel,
  reader: TupleReader,
  query: ListUsersQuery,
): Set<string> {
  const { filter } = query;
  const candidates = new Set<string>();
  const visited = new Set<string>();

  const expand = (object: string, relation: string): void => {
    const key = usersetOf(object, relation);
    if (visited.has(key)) return;
    visited.add(key);
    const type = typeOf(object);
    if (type === filter.type && relation === filter.relation) candidates.add(key);
    const definition = model.relation(type, relation);
    if (definition) walk(definition, object, definition.rewrite);
  };

  const walk = (definition: RelationDefinition, object: string, rewrite: Rewrite): void => {
    switch (rewrite.kind) {
      case "direct":
        for (const stored of reader.users(object, definition.name)) {
          const user = classifyStoredUser(stored);
          if (!model.allows(definition, user)) continue;
          if (user.kind === "userset") expand(user.object, user.relation);
          else if (filter.relation === undefined && user.type === filter.type)
            candidates.add(stored);
        }
        return;
      case "computed":
        expand(object, rewrite.relation);
        return;
      case "tupleToUserset": {
        const tupleset = model.relation(typeOf(object), rewrite.tupleset);
        if (!tupleset) return;
        for (const parent of reader.users(object, rewrite.tupleset)) {
          const user = classifyStoredUser(parent);
          if (user.kind === "object" && model.allows(tupleset, user)) {
            expand(parent, rewrite.computedRelation);
          }
        }
        return;
      }
      case "union":
      case "intersection":
        for (const child of rewrite.children) walk(definition, object, child);
        return;
      case "exclusion":
        walk(definition, object, rewrite.base);
        return;
    }
  };

  expand(query.object, query.relation);
  return candidates;
}
