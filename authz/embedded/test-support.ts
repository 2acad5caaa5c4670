/** Helpers for the evaluator's tests: a model and tuples in one call. */

import type { TupleKey } from "../types.js";
import { AuthzError } from "./errors.js";
import { ModelEvaluator } from "./evaluator.js";
import { compileModel } from "./model-compiler.js";
import { TupleIndex } from "./tuple-index.js";

/** `"agent:triage#runner@user:ann"` → a tuple, to keep test data readable. */
export function tuple(text: string): TupleKey {
  const at = text.lastIndexOf("@");
  const hash = text.lastIndexOf("#", at);
  return {
    object: text.slice(0, hash),
    relation: text.slice(hash + 1, at),
    user: text.slice(at + 1),
  };
}

export function evaluatorFor(
  dsl: string,
  tuples: string[] = [],
): { fga: ModelEvaluator; index: TupleIndex } {
  const index = new TupleIndex();
  for (const each of tuples) index.add(tuple(each));
  return { fga: new ModelEvaluator(compileModel(dsl), index), index };
}

/** The AuthzError `run` throws; fails the test when it throws nothing or something else. */
export function authzErrorOf(run: () => unknown): AuthzError {
  try {
    run();
  } catch (error) {
    if (error instanceof AuthzError) return error;
    throw error;
  }
  throw new Error("expected an AuthzError, but the call succeeded");
}

export const sorted = (values: Iterable<string>): string[] => [...values].sort();
