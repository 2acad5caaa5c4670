/**
 * The contract a conformance target implements: the embedded evaluator today, an OpenFGA
 * server tomorrow. The runner drives it with the suite's data only, so the same cases can
 * be replayed against both and their answers compared.
 *
 * What stays out: how the target stores tuples or models, and any notion of expected
 * results — a target answers, the runner judges.
 */

import type { CheckRequest, ListObjectsRequest, ListUsersRequest, TupleKey } from "../types.js";

export interface ConformanceTarget {
  name: string;
  /**
   * Opens an empty store for one test case. OpenFGA's suite runs a case's stages in order
   * against one store: each stage writes a new model, which becomes current, and more
   * tuples; tuples written by earlier stages stay, and the current model decides which of
   * them still count. A store-file (`.fga.yaml`) test gets its own store with one stage.
   */
  openStore(): Promise<ConformanceStore>;
}

export interface ConformanceStore {
  /**
   * Writes this stage's model and tuples. May throw AuthzError for an invalid model or tuple
   * (or `conditions_unsupported`); the runner then fails — or, for conditions, skips — the
   * stage's assertions with that error's message.
   */
  openStage(modelDsl: string, tuples: TupleKey[]): Promise<ConformanceStage>;
  close(): Promise<void>;
}

/** Answers for the stage's current model. Refusals are thrown as AuthzError with OpenFGA's numeric code. */
export interface ConformanceStage {
  check(request: CheckRequest): Promise<boolean>;
  listObjects(request: ListObjectsRequest): Promise<string[]>;
  listUsers(request: ListUsersRequest): Promise<string[]>;
}
