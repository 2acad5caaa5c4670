/**
 * Check resolution with OpenFGA's semantics (internal/graph/check.go), evaluated depth-first
 * and in order instead of concurrently:
 * - `[...]` (direct): the exact tuple counts if the model still allows its user; then each
 *   allowed wildcard (of the request user's type) or userset (resolved recursively) counts.
 * - `x from y`: for each object the tupleset `y` names (if the model allows it and its type
 *   defines `x`), resolve `x` on it.
 * - A request for `doc:1#viewer` on `doc:1 viewer` is always allowed (a userset contains itself).
 * - Depth: following a userset or a tupleset costs one level of OpenFGA's 25; a computed
 *   userset costs none. Running out is an error (`resolution_too_complex`), not a denial.
 * - Cycles: meeting `object#relation@user` again on the current path is a denial marked as a
 *   cycle, so resolution always terminates. A union counts it as false; an intersection
 *   stops at it; an exclusion with a cycle on either side is false (not "nothing to
 *   subtract"), as OpenFGA decides.
 * - Errors: a union that allows somewhere allows despite a too-deep branch; an intersection
 *   or exclusion that is settled false by one side is false despite the other side's error.
 * Tuples the current model no longer allows are ignored, so stale tuples from an older model
 * version never grant anything.
 */

import { classifyStoredUser, type StoredUser, typeOf } from "./identifiers.js";
import type { AuthorizationModel, RelationDefinition, Rewrite } from "./model.js";
import type { TupleReader } from "./tuple-reader.js";

/** OpenFGA's default resolve node limit. */
export const resolutionDepthLimit = 25;

export const Outcome = { denied: 0, allowed: 1, cycle: 2, tooDeep: 3 } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/**
 * Resolves checks for one request. Results that did not touch a cycle are memoized, so
 * the many checks of one ListObjects, ListUsers or batch share their sub-results; a
 * resolver must not outlive its request, since the tuples may change after it.
 */
export class CheckResolver {
  private readonly model: AuthorizationModel;
  private readonly reader: TupleReader;
  private readonly memo = new Map<string, boolean>();
  private readonly onPath = new Set<string>();
  private cycles = 0;
  private user = "";
  private userKind: StoredUser = { kind: "object", type: "" };

  constructor(model: AuthorizationModel, reader: TupleReader) {
    this.model = model;
    this.reader = reader;
  }

  /** Resolves `user` has `relation` on `object`; the caller has validated the request. */
  check(object: string, relation: string, user: string): Outcome {
    if (user !== this.user) {
      this.user = user;
      this.userKind = classifyStoredUser(user);
    }
    return this.resolve(object, relation, resolutionDepthLimit);
  }

  private resolve(object: string, relation: string, depth: number): Outcome {
    if (depth === 0) return Outcome.tooDeep;
    const key = `${object}#${relation}@${this.user}`;
    if (this.onPath.has(key)) {
      this.cycles++;
      return Outcome.cycle;
    }
    const asked = this.userKind;
    if (asked.kind === "userset" && asked.relation === relation && asked.object === object) {
      return Outcome.allowed;
    }
    const known = this.memo.get(key);
    if (known !== undefined) return known ? Outcome.allowed : Outcome.denied;
    const definition = this.model.relation(typeOf(object), relation);
    if (!definition) return Outcome.denied;

    this.onPath.add(key);
    const cyclesBefore = this.cycles;
    const outcome = this.rewrite(definition, object, definition.rewrite, depth);
    this.onPath.delete(key);
    const settled = outcome === Outcome.allowed || outcome === Outcome.denied;
    if (settled && this.cycles === cyclesBefore) {
      this.memo.set(key, outcome === Outcome.allowed);
    }
    return outcome;
  }

  private rewrite(
    definition: RelationDefinition,
    object: string,
    rewrite: Rewrite,
    depth: number,
  ): Outcome {
    switch (rewrite.kind) {
      case "direct":
        return this.direct(definition, object, depth);
      case "computed":
        return this.resolve(object, rewrite.relation, depth);
      case "tupleToUserset":
        return this.tupleToUserset(object, rewrite.tupleset, rewrite.computedRelation, depth);
      case "union": {
        let outcome: Outcome = Outcome.denied;
        for (const child of rewrite.children) {
          const each = this.rewrite(definition, object, child, depth);
          if (each === Outcome.allowed) return each;
          outcome = worseDenial(outcome, each);
        }
        return outcome;
      }
      case "intersection": {
        let failed = false;
        for (const child of rewrite.children) {
          const each = this.rewrite(definition, object, child, depth);
          if (each === Outcome.denied || each === Outcome.cycle) return each;
          if (each === Outcome.tooDeep) failed = true;
        }
        return failed ? Outcome.tooDeep : Outcome.allowed;
      }
      case "exclusion": {
        const base = this.rewrite(definition, object, rewrite.base, depth);
        if (base === Outcome.denied || base === Outcome.cycle) return base;
        const subtract = this.rewrite(definition, object, rewrite.subtract, depth);
        if (subtract === Outcome.allowed) return Outcome.denied;
        if (subtract === Outcome.cycle) return Outcome.cycle;
        return base === Outcome.tooDeep || subtract === Outcome.tooDeep
          ? Outcome.tooDeep
          : Outcome.allowed;
      }
    }
  }

  private direct(definition: RelationDefinition, object: string, depth: number): Outcome {
    if (
      this.reader.has(object, definition.name, this.user) &&
      this.model.allows(definition, this.userKind)
    ) {
      return Outcome.allowed;
    }
    if (!definition.allowsIndirectUsers) return Outcome.denied;
    let outcome: Outcome = Outcome.denied;
    for (const stored of this.reader.indirectUsers(object, definition.name)) {
      const user = classifyStoredUser(stored);
      if (!this.model.allows(definition, user)) continue;
      if (user.kind === "wildcard") {
        if (user.type === this.userKind.type) return Outcome.allowed;
      } else if (user.kind === "userset") {
        const each = this.resolve(user.object, user.relation, depth - 1);
        if (each === Outcome.allowed) return each;
        outcome = worseDenial(outcome, each);
      }
    }
    return outcome;
  }

  private tupleToUserset(
    object: string,
    tupleset: string,
    computedRelation: string,
    depth: number,
  ): Outcome {
    const tuplesetDefinition = this.model.relation(typeOf(object), tupleset);
    if (!tuplesetDefinition) return Outcome.denied;
    let outcome: Outcome = Outcome.denied;
    for (const parent of this.reader.users(object, tupleset)) {
      const user = classifyStoredUser(parent);
      if (user.kind !== "object" || !this.model.allows(tuplesetDefinition, user)) continue;
      if (!this.model.relation(user.type, computedRelation)) continue;
      const each = this.resolve(parent, computedRelation, depth - 1);
      if (each === Outcome.allowed) return each;
      outcome = worseDenial(outcome, each);
    }
    return outcome;
  }
}

/** Combines two non-allowed outcomes: an error outranks a cycle, which outranks a plain denial. */
function worseDenial(a: Outcome, b: Outcome): Outcome {
  if (a === Outcome.tooDeep || b === Outcome.tooDeep) return Outcome.tooDeep;
  if (a === Outcome.cycle || b === Outcome.cycle) return Outcome.cycle;
  return Outcome.denied;
}
