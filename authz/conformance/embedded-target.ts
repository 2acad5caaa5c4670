/**
 * The embedded evaluator as a conformance target. A store is one TupleIndex that outlives
 * the stages; each stage compiles its model and validates its tuples against it before
 * storing them, as OpenFGA's Write does.
 */

import { compileModel, ModelEvaluator, TupleIndex } from "../embedded/index.js";
import type { TupleKey } from "../types.js";
import type { ConformanceStage, ConformanceStore, ConformanceTarget } from "./target.js";

export function embeddedTarget(): ConformanceTarget {
  return {
    name: "embedded evaluator",
    openStore: async () => new EmbeddedStore(),
  };
}

class EmbeddedStore implements ConformanceStore {
  private readonly tuples = new TupleIndex();

  async openStage(modelDsl: string, tuples: TupleKey[]): Promise<ConformanceStage> {
    const evaluator = new ModelEvaluator(compileModel(modelDsl), this.tuples);
    for (const tuple of tuples) evaluator.validateTupleForWrite(tuple);
    for (const tuple of tuples) this.tuples.add(tuple);
    return {
      check: async (request) => evaluator.check(request),
      listObjects: async (request) => evaluator.listObjects(request),
      listUsers: async (request) => evaluator.listUsers(request),
    };
  }

  async close(): Promise<void> {
    this.tuples.clear();
  }
}
