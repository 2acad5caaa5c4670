/**
 * One in-memory shape for conformance cases, whatever file they came from (OpenFGA's own
 * suite or a store test file), and the shape of the runner's results.
 */

import type { CheckRequest, ListObjectsRequest, ListUsersRequest, TupleKey } from "../types.js";

export interface ConformanceFile {
  /** Where the cases came from, for reports. */
  source: string;
  cases: ConformanceCase[];
}

export interface ConformanceCase {
  name: string;
  /** Run in order against one store. */
  stages: StageSpec[];
}

export interface StageSpec {
  model: string;
  tuples: TupleKey[];
  assertions: Assertion[];
  /** Set when the stage cannot be expressed through ConformanceTarget; its assertions are skipped. */
  unsupported?: string;
}

/** The answer a case expects: a result, or a refusal with OpenFGA's numeric error code. */
export type Expectation<T> = { result: T } | { errorCode: number };

export type Assertion =
  | { api: "check"; request: CheckRequest; expect: Expectation<boolean> }
  | { api: "listObjects"; request: ListObjectsRequest; expect: Expectation<string[]> }
  | { api: "listUsers"; request: ListUsersRequest; expect: Expectation<string[]> };

export type Status = "passed" | "failed" | "skipped";

export interface AssertionResult {
  stage: number;
  /** What was asked, e.g. `check user:ann runner agent:triage`. */
  label: string;
  status: Status;
  expected: string;
  actual?: string;
  /** Why the assertion was skipped. */
  reason?: string;
}

export interface CaseResult {
  name: string;
  /** Failed if any assertion failed; skipped if every assertion was skipped. */
  status: Status;
  assertions: AssertionResult[];
}

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

export interface ConformanceReport {
  target: string;
  source: string;
  cases: CaseResult[];
  /** Counted per assertion. */
  totals: Totals;
}
