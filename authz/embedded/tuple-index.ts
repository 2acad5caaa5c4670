/**
 * The in-memory tuple index: the hot copy of the relationship tuples the database persists.
 * Every lookup the evaluator makes is a couple of Map/Set hits:
 *   forward  object → relation → users          (check: exact tuple, TTU parents, listUsers)
 *   forward  object → relation → indirect users (check: only the wildcards and usersets)
 *   reverse  user → "relation objectType" → objects (listObjects; `Read` by user)
 * The index knows nothing of models: it stores any well-formed tuple. Which tuples count is
 * decided per request against the current model, as OpenFGA does with stored tuples.
 */

import type { ReadFilter, TupleKey } from "../types.js";
import { AuthzError } from "./errors.js";
import { isValidRelationName, parseObject, parseUser, typeOf } from "./identifiers.js";
import type { TupleReader } from "./tuple-reader.js";

type NestedSets = Map<string, Map<string, Set<string>>>;

const emptySet: ReadonlySet<string> = new Set();

export class TupleIndex implements TupleReader {
  private readonly usersByObject: NestedSets = new Map();
  private readonly indirectUsersByObject: NestedSets = new Map();
  /** Inner key is `${relation} ${objectType}`: no valid name contains a space. */
  private readonly objectsByUser: NestedSets = new Map();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a tuple; returns false when it was already there. Throws for a malformed tuple. */
  add(tuple: TupleKey): boolean {
    const { object, relation, user } = assertWellFormed(tuple);
    if (!addTo(this.usersByObject, object, relation, user)) return false;
    if (isIndirect(user)) addTo(this.indirectUsersByObject, object, relation, user);
    addTo(this.objectsByUser, user, `${relation} ${typeOf(object)}`, object);
    this.count++;
    return true;
  }

  /** Removes a tuple; returns false when it was not there. */
  remove(tuple: TupleKey): boolean {
    const { object, relation, user } = tuple;
    if (!removeFrom(this.usersByObject, object, relation, user)) return false;
    removeFrom(this.indirectUsersByObject, object, relation, user);
    removeFrom(this.objectsByUser, user, `${relation} ${typeOf(object)}`, object);
    this.count--;
    return true;
  }

  has(object: string, relation: string, user: string): boolean {
    return this.usersByObject.get(object)?.get(relation)?.has(user) ?? false;
  }

  users(object: string, relation: string): ReadonlySet<string> {
    return this.usersByObject.get(object)?.get(relation) ?? emptySet;
  }

  indirectUsers(object: string, relation: string): ReadonlySet<string> {
    return this.indirectUsersByObject.get(object)?.get(relation) ?? emptySet;
  }

  objects(user: string, relation: string, objectType: string): ReadonlySet<string> {
    return this.objectsByUser.get(user)?.get(`${relation} ${objectType}`) ?? emptySet;
  }

  /**
   * Stored tuples matching a filter, as OpenFGA's Read: `object` is `type:id`, or a bare
   * `type:` (every object of the type); `relation` and `user` narrow the match.
   */
  read(filter: ReadFilter = {}): TupleKey[] {
    const objectType = filter.object?.endsWith(":") ? filter.object.slice(0, -1) : undefined;
    const object = objectType === undefined ? filter.object : undefined;
    const found: TupleKey[] = [];
    if (object !== undefined) {
      for (const [relation, users] of this.usersByObject.get(object) ?? []) {
        if (filter.relation !== undefined && relation !== filter.relation) continue;
        for (const user of users) {
          if (filter.user === undefined || user === filter.user)
            found.push({ user, relation, object });
        }
      }
      return found;
    }
    const byUser =
      filter.user === undefined
        ? this.objectsByUser
        : new Map([[filter.user, this.objectsByUser.get(filter.user) ?? new Map()]]);
    for (const [user, relations] of byUser) {
      for (const [relationAndType, objects] of relations) {
        const [relation = "", type = ""] = relationAndType.split(" ");
        if (filter.relation !== undefined && relation !== filter.relation) continue;
        if (objectType !== undefined && type !== objectType) continue;
        for (const each of objects) found.push({ user, relation, object: each });
      }
    }
    return found;
  }

  /** Every stored tuple. */
  all(): TupleKey[] {
    return this.read();
  }

  clear(): void {
    this.usersByObject.clear();
    this.indirectUsersByObject.clear();
    this.objectsByUser.clear();
    this.count = 0;
  }
}

function assertWellFormed(tuple: TupleKey): TupleKey {
  const object = parseObject(tuple.object);
  const user = parseUser(tuple.user);
  const wildcardUserset = user?.wildcard === true && user.relation !== undefined;
  if (
    !object ||
    object.id === "*" ||
    !user ||
    wildcardUserset ||
    !isValidRelationName(tuple.relation)
  ) {
    throw new AuthzError(
      "validation_error",
      `Malformed tuple ${tuple.object}#${tuple.relation}@${tuple.user}: expected an object "type:id", a relation name and a user "type:id", "type:*" or "type:id#relation".`,
    );
  }
  return tuple;
}

function isIndirect(user: string): boolean {
  return user.includes("#") || user.endsWith(":*");
}

function addTo(index: NestedSets, outer: string, inner: string, value: string): boolean {
  let byInner = index.get(outer);
  if (!byInner) {
    byInner = new Map();
    index.set(outer, byInner);
  }
  let values = byInner.get(inner);
  if (!values) {
    values = new Set();
    byInner.set(inner, values);
  }
  if (values.has(value)) return false;
  values.add(value);
  return true;
}

function removeFrom(index: NestedSets, outer: string, inner: string, value: string): boolean {
  const byInner = index.get(outer);
  const values = byInner?.get(inner);
  if (!byInner || !values?.delete(value)) return false;
  if (values.size === 0) byInner.delete(inner);
  if (byInner.size === 0) index.delete(outer);
  return true;
}
