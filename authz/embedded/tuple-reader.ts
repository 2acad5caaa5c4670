/**
 * What the evaluator needs from stored relationship tuples, in both directions. The
 * TupleIndex implements it; ContextualTupleReader layers one request's contextual tuples
 * over it without copying or storing them.
 *
 * Readers return raw tuples: deciding which of them the current model still accepts is the
 * evaluator's job, because tuples outlive model versions.
 */

import type { TupleKey } from "../types.js";
import { TupleIndex } from "./tuple-index.js";

export interface TupleReader {
  /** Whether the exact tuple `object#relation@user` exists. */
  has(object: string, relation: string, user: string): boolean;
  /** Every user of `object#relation`. */
  users(object: string, relation: string): Iterable<string>;
  /** Only the wildcards (`type:*`) and usersets (`type:id#rel`) of `object#relation`. */
  indirectUsers(object: string, relation: string): Iterable<string>;
  /** Objects of `objectType` on which `user` (an object, wildcard or userset) has `relation`. */
  objects(user: string, relation: string, objectType: string): Iterable<string>;
}

/** Stored tuples plus one request's contextual tuples, which count for that request only. */
export class ContextualTupleReader implements TupleReader {
  private readonly base: TupleReader;
  private readonly overlay: TupleIndex;

  private constructor(base: TupleReader, overlay: TupleIndex) {
    this.base = base;
    this.overlay = overlay;
  }

  /** Returns `base` itself when there is nothing to layer, so the common path pays nothing. */
  static over(base: TupleReader, contextualTuples: readonly TupleKey[] | undefined): TupleReader {
    if (!contextualTuples || contextualTuples.length === 0) return base;
    const overlay = new TupleIndex();
    for (const tuple of contextualTuples) overlay.add(tuple);
    return new ContextualTupleReader(base, overlay);
  }

  has(object: string, relation: string, user: string): boolean {
    return this.overlay.has(object, relation, user) || this.base.has(object, relation, user);
  }

  users(object: string, relation: string): Iterable<string> {
    return union(this.overlay.users(object, relation), this.base.users(object, relation));
  }

  indirectUsers(object: string, relation: string): Iterable<string> {
    return union(
      this.overlay.indirectUsers(object, relation),
      this.base.indirectUsers(object, relation),
    );
  }

  objects(user: string, relation: string, objectType: string): Iterable<string> {
    return union(
      this.overlay.objects(user, relation, objectType),
      this.base.objects(user, relation, objectType),
    );
  }
}

/** Both sets, without repeating an element the overlay already yielded. */
function* union(overlay: Iterable<string>, base: Iterable<string>): Iterable<string> {
  const seen = overlay instanceof Set ? overlay : new Set(overlay);
  yield* seen;
  for (const value of base) if (!seen.has(value)) yield value;
}
