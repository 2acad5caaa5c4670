/**
 * Reads OpenFGA's own conformance format (openfga/openfga assets/tests/*.yaml): `tests`,
 * each with `stages` of a model, tuples and check / list-objects / list-users assertions
 * expecting a result or an `errorCode`.
 */

import { z } from "zod";
import type { TupleKey } from "../types.js";
import type { Assertion, ConformanceCase, Expectation, StageSpec } from "./suite.js";

const tupleSchema = z.object({
  object: z.string(),
  relation: z.string(),
  user: z.string(),
  condition: z.unknown().optional(),
});

const contextSchema = z.record(z.string(), z.unknown()).optional();
const errorCodeSchema = z.number().int().optional();

const stageSchema = z.object({
  model: z.string(),
  tuples: z.array(tupleSchema).nullish(),
  checkAssertions: z
    .array(
      z.object({
        tuple: tupleSchema,
        contextualTuples: z.array(tupleSchema).nullish(),
        context: contextSchema,
        expectation: z.boolean().optional(),
        errorCode: errorCodeSchema,
      }),
    )
    .nullish(),
  listObjectsAssertions: z
    .array(
      z.object({
        request: z.object({ user: z.string(), type: z.string(), relation: z.string() }),
        contextualTuples: z.array(tupleSchema).nullish(),
        context: contextSchema,
        expectation: z.array(z.string()).nullish(),
        errorCode: errorCodeSchema,
      }),
    )
    .nullish(),
  listUsersAssertions: z
    .array(
      z.object({
        request: z.object({
          filters: z.array(z.string()),
          object: z.string(),
          relation: z.string(),
        }),
        contextualTuples: z.array(tupleSchema).nullish(),
        context: contextSchema,
        expectation: z.array(z.string()).nullish(),
        errorCode: errorCodeSchema,
      }),
    )
    .nullish(),
});

export const openFgaSuiteSchema = z.object({
  tests: z.array(z.object({ name: z.string(), stages: z.array(stageSchema) })),
});

export function isOpenFgaSuite(document: unknown): boolean {
  return openFgaSuiteSchema.safeParse(document).success;
}

export function readOpenFgaSuite(document: unknown): ConformanceCase[] {
  const suite = openFgaSuiteSchema.parse(document);
  return suite.tests.map((test) => ({ name: test.name, stages: test.stages.map(toStage) }));
}

type RawTuple = z.infer<typeof tupleSchema>;

function toStage(stage: z.infer<typeof stageSchema>): StageSpec {
  const rawTuples = [
    ...(stage.tuples ?? []),
    ...(stage.checkAssertions ?? []).flatMap((each) => each.contextualTuples ?? []),
    ...(stage.listObjectsAssertions ?? []).flatMap((each) => each.contextualTuples ?? []),
    ...(stage.listUsersAssertions ?? []).flatMap((each) => each.contextualTuples ?? []),
  ];
  const conditioned = rawTuples.find((each) => each.condition !== undefined);
  const assertions: Assertion[] = [
    ...(stage.checkAssertions ?? []).map(
      (each): Assertion => ({
        api: "check",
        request: {
          ...toTuple(each.tuple),
          contextualTuples: tuples(each.contextualTuples),
          context: each.context,
        },
        expect: expectation(each.errorCode, each.expectation ?? false),
      }),
    ),
    ...(stage.listObjectsAssertions ?? []).map(
      (each): Assertion => ({
        api: "listObjects",
        request: {
          ...each.request,
          contextualTuples: tuples(each.contextualTuples),
          context: each.context,
        },
        expect: expectation(each.errorCode, each.expectation ?? []),
      }),
    ),
    ...(stage.listUsersAssertions ?? []).map(
      (each): Assertion => ({
        api: "listUsers",
        request: {
          object: each.request.object,
          relation: each.request.relation,
          userFilters: each.request.filters.map(toUserFilter),
          contextualTuples: tuples(each.contextualTuples),
          context: each.context,
        },
        expect: expectation(each.errorCode, each.expectation ?? []),
      }),
    ),
  ];
  return {
    model: stage.model,
    tuples: tuples(stage.tuples),
    assertions,
    ...(conditioned && {
      unsupported: `tuple ${describe(conditioned)} has a condition, which ConformanceTarget's TupleKey cannot carry`,
    }),
  };
}

function expectation<T>(errorCode: number | undefined, result: T): Expectation<T> {
  return errorCode !== undefined ? { errorCode } : { result };
}

function tuples(raw: RawTuple[] | null | undefined): TupleKey[] {
  return (raw ?? []).map(toTuple);
}

function toTuple(raw: RawTuple): TupleKey {
  return { object: raw.object, relation: raw.relation, user: raw.user };
}

/** The suite writes filters as `type` or `type#relation`. */
function toUserFilter(filter: string): { type: string; relation?: string } {
  const [type = "", relation] = filter.split("#");
  return relation ? { type, relation } : { type };
}

function describe(tuple: RawTuple): string {
  return `${tuple.object}#${tuple.relation}@${tuple.user}`;
}
