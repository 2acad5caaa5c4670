import type {
  CheckRequest,
  ListObjectsRequest,
  ListUsersRequest,
  ReadFilter,
  TupleKey,
} from "./types.js";

/**
 * The one way Switchboard asks who may do what. Two implementations answer it with the same
 * OpenFGA model: the OpenFGA server (`OPENFGA_API_URL`) and the embedded evaluator (tuples in
 * our database). Callers never learn which one answers.
 *
 * What stays out: who the caller is (see `Principal`), what to tell a person who is refused
 * (see `AccessPolicy`), and timeouts (the policy bounds every call and denies on expiry).
 */
export interface Authorizer {
  readonly backend: "openfga" | "embedded";

  /** Whether `user` has `relation` on `object`. */
  check(request: CheckRequest, options?: ReadOptions): Promise<boolean>;

  /** One answer per object, in order: e.g. filtering a page of agents for one person. */
  batchCheck(request: BatchCheck, options?: ReadOptions): Promise<boolean[]>;

  /** Every object of `type` on which `user` has `relation`, unordered. */
  listObjects(request: ListObjectsRequest, options?: ReadOptions): Promise<string[]>;

  /** Every user (or userset) matching the filter with `relation` on `object`, unordered. */
  listUsers(request: ListUsersRequest, options?: ReadOptions): Promise<string[]>;

  /**
   * Adds and removes tuples in one step. Writing a tuple that exists, or deleting one that
   * does not, is not an error: grants are idempotent. A tuple the model does not allow is
   * refused (AuthzError `invalid_tuple`) and nothing is written.
   */
  write(writes: TupleKey[], deletes?: TupleKey[]): Promise<void>;

  /** Stored tuples matching the filter (contextual tuples are never stored). */
  read(filter?: ReadFilter): Promise<TupleKey[]>;

  /** Resolves when the backend answers; for /readyz. */
  ping(): Promise<void>;

  close(): Promise<void>;
}

export interface BatchCheck {
  user: string;
  relation: string;
  objects: readonly string[];
  contextualTuples?: TupleKey[];
}

export interface ReadOptions {
  /**
   * Set right after a write that a person is waiting on ("I just shared it, why can't she
   * run it?"): the OpenFGA server then skips its caches. The embedded evaluator is always
   * current in its own process.
   */
  fresh?: boolean;
}
