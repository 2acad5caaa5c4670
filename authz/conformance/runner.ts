/**
 * Runs conformance cases against a target and judges the answers. A refusal counts as the
 * expected answer only when the target throws an AuthzError carrying the expected OpenFGA
 * error code; lists compare as sets. Nothing stops at the first failure: every assertion
 * gets a result, so one report shows everything that differs.
 */

import { isAuthzError } from "../embedded/errors.js";
import type {
  Assertion,
  AssertionResult,
  CaseResult,
  ConformanceCase,
  ConformanceFile,
  ConformanceReport,
  Expectation,
  Status,
  Totals,
} from "./suite.js";
import type { ConformanceStage, ConformanceTarget } from "./target.js";

export async function runConformance(
  target: ConformanceTarget,
  file: ConformanceFile,
): Promise<ConformanceReport> {
  const cases: CaseResult[] = [];
  for (const each of file.cases) cases.push(await runConformanceCase(target, each));
  return { target: target.name, source: file.source, cases, totals: totalsOf(cases) };
}

export async function runConformanceCase(
  target: ConformanceTarget,
  testCase: ConformanceCase,
): Promise<CaseResult> {
  const results: AssertionResult[] = [];
  const store = await target.openStore();
  try {
    for (const [index, spec] of testCase.stages.entries()) {
      const stageNumber = index + 1;
      if (spec.unsupported) {
        results.push(
          ...spec.assertions.map((a) => skipped(stageNumber, a, spec.unsupported ?? "")),
        );
        continue;
      }
      let stage: ConformanceStage;
      try {
        stage = await store.openStage(spec.model, spec.tuples);
      } catch (error) {
        const conditions = isAuthzError(error) && error.code === "conditions_unsupported";
        for (const assertion of spec.assertions) {
          results.push(
            conditions
              ? skipped(stageNumber, assertion, messageOf(error))
              : failed(stageNumber, assertion, `stage setup failed: ${messageOf(error)}`),
          );
        }
        continue;
      }
      for (const assertion of spec.assertions) {
        results.push(await judge(stage, stageNumber, assertion));
      }
    }
  } finally {
    await store.close();
  }
  return { name: testCase.name, status: caseStatus(results), assertions: results };
}

async function judge(
  stage: ConformanceStage,
  stageNumber: number,
  assertion: Assertion,
): Promise<AssertionResult> {
  const expected = describeExpectation(assertion.expect);
  const base = { stage: stageNumber, label: labelOf(assertion), expected };
  let actual: string;
  try {
    actual = describeResult(await ask(stage, assertion));
  } catch (error) {
    actual = isAuthzError(error)
      ? `error ${error.openFgaCode ?? "(none)"} ${error.code}: ${error.message}`
      : `unexpected ${messageOf(error)}`;
    const matches =
      "errorCode" in assertion.expect &&
      isAuthzError(error) &&
      error.openFgaCode === assertion.expect.errorCode;
    return { ...base, status: matches ? "passed" : "failed", actual };
  }
  return { ...base, status: actual === expected ? "passed" : "failed", actual };
}

function ask(stage: ConformanceStage, assertion: Assertion): Promise<boolean | string[]> {
  switch (assertion.api) {
    case "check":
      return stage.check(assertion.request);
    case "listObjects":
      return stage.listObjects(assertion.request);
    case "listUsers":
      return stage.listUsers(assertion.request);
  }
}

function describeExpectation(expect: Expectation<boolean | string[]>): string {
  return "errorCode" in expect ? `error ${expect.errorCode}` : describeResult(expect.result);
}

/** Booleans as themselves; lists sorted and deduplicated, so order never matters. */
function describeResult(result: boolean | string[]): string {
  return typeof result === "boolean"
    ? String(result)
    : `[${[...new Set(result)].sort().join(", ")}]`;
}

export function labelOf(assertion: Assertion): string {
  const context = assertion.request.contextualTuples?.length
    ? ` (+${assertion.request.contextualTuples.length} contextual)`
    : "";
  switch (assertion.api) {
    case "check": {
      const { user, relation, object } = assertion.request;
      return `check ${user} ${relation} ${object}${context}`;
    }
    case "listObjects": {
      const { user, relation, type } = assertion.request;
      return `list_objects ${user} ${relation} ${type}${context}`;
    }
    case "listUsers": {
      const { object, relation, userFilters } = assertion.request;
      const filters = userFilters.map((f) => (f.relation ? `${f.type}#${f.relation}` : f.type));
      return `list_users ${object} ${relation} [${filters.join(", ")}]${context}`;
    }
  }
}

function skipped(stage: number, assertion: Assertion, reason: string): AssertionResult {
  const expected = describeExpectation(assertion.expect);
  return { stage, label: labelOf(assertion), status: "skipped", expected, reason };
}

function failed(stage: number, assertion: Assertion, actual: string): AssertionResult {
  const expected = describeExpectation(assertion.expect);
  return { stage, label: labelOf(assertion), status: "failed", expected, actual };
}

function caseStatus(results: AssertionResult[]): Status {
  if (results.some((r) => r.status === "failed")) return "failed";
  if (results.length > 0 && results.every((r) => r.status === "skipped")) return "skipped";
  return "passed";
}

export function totalsOf(cases: CaseResult[]): Totals {
  const totals: Totals = { passed: 0, failed: 0, skipped: 0 };
  for (const each of cases) for (const result of each.assertions) totals[result.status]++;
  return totals;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
