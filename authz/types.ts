/**
 * The vocabulary of authorization, shared by both backends (the OpenFGA server and the
 * embedded evaluator). Identifiers follow OpenFGA: an object is `type:id`, a user is
 * `type:id`, `type:*` (everyone of that type) or a userset `type:id#relation`.
 */

/** One relationship tuple: `user` has `relation` on `object`. */
export interface TupleKey {
  user: string;
  relation: string;
  object: string;
}

/**
 * Values for the model's conditions (ABAC), as OpenFGA's `context`. Only an OpenFGA server
 * evaluates conditions; the embedded evaluator refuses models that have any, so it ignores this.
 */
export type RequestContext = Record<string, unknown>;

export interface CheckRequest extends TupleKey {
  /** Tuples that count for this request only and are never stored. */
  contextualTuples?: TupleKey[];
  context?: RequestContext;
}

export interface ListObjectsRequest {
  user: string;
  relation: string;
  /** The object type to list, e.g. `agent`. */
  type: string;
  contextualTuples?: TupleKey[];
  context?: RequestContext;
}

export interface UserFilter {
  type: string;
  /** Set to list usersets (`team:x#member`) instead of plain users. */
  relation?: string;
}

export interface ListUsersRequest {
  object: string;
  relation: string;
  userFilters: UserFilter[];
  contextualTuples?: TupleKey[];
  context?: RequestContext;
}

/** Matches stored tuples; `object` may be a bare `type:` to match every object of that type. */
export interface ReadFilter {
  user?: string;
  relation?: string;
  object?: string;
}
