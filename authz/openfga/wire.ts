import type { ListUsersRequest, TupleKey } from "../types.js";

/** Conversions between our identifiers and the shapes the OpenFGA API speaks. */

export function splitObject(object: string): { type: string; id: string } {
  const at = object.indexOf(":");
  return { type: object.slice(0, at), id: object.slice(at + 1) };
}

/** The body of a ListUsers call (the caller adds options). */
export function listUsersBody(request: ListUsersRequest) {
  return {
    object: splitObject(request.object),
    relation: request.relation,
    user_filters: request.userFilters.map((f) =>
      f.relation ? { type: f.type, relation: f.relation } : { type: f.type },
    ),
    contextualTuples: nonEmpty(request.contextualTuples),
  };
}

interface ListedUser {
  object?: { type: string; id: string };
  userset?: { type: string; id: string; relation: string };
  wildcard?: { type: string };
}

/** A ListUsers result entry as `type:id`, `type:id#relation` or `type:*`. */
export function listedUser(user: ListedUser): string {
  if (user.object) return `${user.object.type}:${user.object.id}`;
  if (user.userset) return `${user.userset.type}:${user.userset.id}#${user.userset.relation}`;
  return `${user.wildcard?.type}:*`;
}

/** OpenFGA rejects an empty contextual tuple list in some calls; send none instead. */
export function nonEmpty(tuples: TupleKey[] | undefined): TupleKey[] | undefined {
  return tuples && tuples.length > 0 ? tuples : undefined;
}
