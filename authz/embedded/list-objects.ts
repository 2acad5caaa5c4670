/**
 * ListObjects: every object of a type on which a user has a relation.
 *
 * Like OpenFGA, it expands in reverse from the user — through the tuples that name the
 * user (or its type's wildcard), then along the model's reverse edges (usersets, computed
 * relations, tuple-to-userset) — restricted to the part of the graph that can reach the
 * target relation. That yields candidates; each is then confirmed by a Check sharing one
 * resolver, so the answer is exactly the objects Check allows (intersections, exclusions
 * and cycles included) and a Check sub-result is computed once for all candidates.
 */

import { type CheckResolver, Outcome } from "./check-resolver.js";
import { AuthzError } from "./errors.js";
import { classifyStoredUser, typeOf, wildcardOf } from "./identifiers.js";
import type { AuthorizationModel } from "./model.js";
import { contributors, nodeKey, reverseEdges } from "./relation-graph.js";
import type { TupleReader } from "./tuple-reader.js";

export interface ListObjectsQuery {
  user: string;
  type: string;
  relation: string;
}

export function listObjects(
  model: AuthorizationModel,
  reader: TupleReader,
  resolver: CheckResolver,
  query: ListObjectsQuery,
): string[] {
  const allowed: string[] = [];
  for (const candidate of candidateObjects(model, reader, query)) {
    const outcome = resolver.check(candidate, query.relation, query.user);
    if (outcome === Outcome.tooDeep) throw tooComplex(query);
    if (outcome === Outcome.allowed) allowed.push(candidate);
  }
  return allowed;
}

/** Objects of the target type that the user might reach: a superset of the answer. */
export function candidateObjects(
  model: AuthorizationModel,
  reader: TupleReader,
  query: ListObjectsQuery,
): Set<string> {
  const relevant = contributors(model, query.type, query.relation);
  const edges = reverseEdges(model);
  const reached = new Set<string>();
  const queue: Array<[object: string, relation: string]> = [];
  const candidates = new Set<string>();
  const reach = (object: string, relation: string) => {
    const key = `${object}#${relation}`;
    if (reached.has(key)) return;
    reached.add(key);
    queue.push([object, relation]);
    if (relation === query.relation && typeOf(object) === query.type) candidates.add(object);
  };

  seed(model, reader, relevant, query.user, reach);
  for (let next = queue.pop(); next; next = queue.pop()) {
    const [object, relation] = next;
    const objectKey = nodeKey(typeOf(object), relation);
    for (const edge of edges.get(objectKey) ?? []) {
      if (!relevant.has(nodeKey(edge.targetType, edge.targetRelation))) continue;
      if (edge.kind === "computed") {
        reach(object, edge.targetRelation);
      } else {
        const user = edge.kind === "userset" ? `${object}#${relation}` : object;
        const via = edge.kind === "userset" ? edge.targetRelation : edge.tupleset;
        for (const parent of reader.objects(user, via, edge.targetType)) {
          reach(parent, edge.targetRelation);
        }
      }
    }
  }
  return candidates;
}

/** The relations the user holds directly: tuples naming it, its wildcard, or itself as a userset. */
function seed(
  model: AuthorizationModel,
  reader: TupleReader,
  relevant: ReadonlySet<string>,
  user: string,
  reach: (object: string, relation: string) => void,
): void {
  const kind = classifyStoredUser(user);
  if (kind.kind === "userset" && relevant.has(nodeKey(kind.type, kind.relation))) {
    reach(kind.object, kind.relation);
  }
  for (const key of relevant) {
    const [type = "", relation = ""] = key.split("#");
    const definition = model.relation(type, relation);
    if (!definition) continue;
    if (model.allows(definition, kind)) {
      for (const object of reader.objects(user, relation, type)) reach(object, relation);
    }
    if (kind.kind !== "wildcard" && definition.allowed.wildcardTypes.has(kind.type)) {
      for (const object of reader.objects(wildcardOf(kind.type), relation, type)) {
        reach(object, relation);
      }
    }
  }
}

function tooComplex(query: ListObjectsQuery): AuthzError {
  return new AuthzError(
    "resolution_too_complex",
    `Listing ${query.type} objects with ${query.relation} for ${query.user} needs more than 25 levels of resolution.`,
  );
}
