/**
 * Our own typed, indexed form of an OpenFGA authorization model (schema 1.1). The DSL is
 * compiled into it once (see model-compiler.ts); the evaluator then only does map lookups.
 */

import type { StoredUser } from "./identifiers.js";

/** A relation's rewrite rule, as in OpenFGA's `Userset`. */
export type Rewrite =
  /** `[user, group#member, user:*]`: tuples stored on this very relation. */
  | { kind: "direct" }
  /** `viewer: editor`: the same object's other relation. */
  | { kind: "computed"; relation: string }
  /** `viewer from parent`: `viewer` on every object related through `parent`. */
  | { kind: "tupleToUserset"; tupleset: string; computedRelation: string }
  | { kind: "union"; children: readonly Rewrite[] }
  | { kind: "intersection"; children: readonly Rewrite[] }
  /** `base but not subtract`. */
  | { kind: "exclusion"; base: Rewrite; subtract: Rewrite };

/** A relation's type restrictions: which kinds of user a stored tuple may name. */
export interface TypeRestrictions {
  /** `[user]`: plain objects of these types. */
  readonly objectTypes: ReadonlySet<string>;
  /** `[user:*]`: the typed wildcard of these types. */
  readonly wildcardTypes: ReadonlySet<string>;
  /** `[group#member]`, stored as `group#member`. */
  readonly usersetTypes: ReadonlySet<string>;
}

export interface RelationDefinition {
  readonly objectType: string;
  readonly name: string;
  readonly rewrite: Rewrite;
  readonly allowed: TypeRestrictions;
  /** The rewrite contains `[...]` somewhere: tuples may be written to this relation. */
  readonly assignable: boolean;
  /** Some `x from <this relation>` of the same type reads it: its tuples must name objects. */
  readonly tupleset: boolean;
  /** Wildcards or usersets are allowed, so a check must look beyond an exact tuple. */
  readonly allowsIndirectUsers: boolean;
}

export interface TypeDefinition {
  readonly name: string;
  readonly relations: ReadonlyMap<string, RelationDefinition>;
}

/**
 * A compiled model. Immutable; cheap to share between requests. Derived indexes (see
 * relation-graph.ts) hang off it lazily through `derived`.
 */
export class AuthorizationModel {
  readonly types: ReadonlyMap<string, TypeDefinition>;
  /** Per-model caches computed on first use by other modules, keyed by their owner. */
  private readonly derived = new Map<string, unknown>();

  constructor(types: ReadonlyMap<string, TypeDefinition>) {
    this.types = types;
  }

  hasType(type: string): boolean {
    return this.types.has(type);
  }

  relation(type: string, relation: string): RelationDefinition | undefined {
    return this.types.get(type)?.relations.get(relation);
  }

  /** Whether the model lets `definition` store a tuple naming `user` (OpenFGA's type restrictions). */
  allows(definition: RelationDefinition, user: StoredUser): boolean {
    const { allowed } = definition;
    switch (user.kind) {
      case "object":
        return allowed.objectTypes.has(user.type);
      case "wildcard":
        return allowed.wildcardTypes.has(user.type);
      case "userset":
        return allowed.usersetTypes.has(`${user.type}#${user.relation}`);
    }
  }

  /** Returns a derived index, computing it once per model. */
  memo<T>(key: string, compute: () => T): T {
    if (this.derived.has(key)) return this.derived.get(key) as T;
    const value = compute();
    this.derived.set(key, value);
    return value;
  }
}
