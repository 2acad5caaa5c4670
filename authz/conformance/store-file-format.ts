/**
 * Reads OpenFGA's store test file (`.fga.yaml`, as run by `fga model test`): a model
 * (`model` or `model_file`), global tuples (`tuples`, `tuple_file`, `tuple_files`) and
 * `tests`, each with its own extra tuples and `check` (user|users × object|objects →
 * {relation: bool}), `list_objects` (user, type → {relation: [objects]}) and `list_users`
 * (object, user_filter → {relation: {users: [...]}}) assertions. Each test becomes one case
 * with one stage, on a store of its own, as the CLI runs it.
 */

import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import type { TupleKey } from "../types.js";
import type { Assertion, ConformanceCase } from "./suite.js";

const tupleSchema = z.object({
  user: z.string(),
  relation: z.string(),
  object: z.string(),
  condition: z.unknown().optional(),
});
const tuplesSchema = z.array(tupleSchema);
const contextSchema = z.record(z.string(), z.unknown()).optional();

const testSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  tuples: tuplesSchema.nullish(),
  tuple_file: z.string().optional(),
  check: z
    .array(
      z.object({
        user: z.string().optional(),
        users: z.array(z.string()).optional(),
        object: z.string().optional(),
        objects: z.array(z.string()).optional(),
        context: contextSchema,
        assertions: z.record(z.string(), z.boolean()),
      }),
    )
    .nullish(),
  list_objects: z
    .array(
      z.object({
        user: z.string(),
        type: z.string(),
        context: contextSchema,
        assertions: z.record(z.string(), z.array(z.string()).nullable()),
      }),
    )
    .nullish(),
  list_users: z
    .array(
      z.object({
        object: z.string(),
        user_filter: z.array(z.object({ type: z.string(), relation: z.string().optional() })),
        context: contextSchema,
        assertions: z.record(z.string(), z.object({ users: z.array(z.string()).nullish() })),
      }),
    )
    .nullish(),
});

export const storeFileSchema = z.object({
  name: z.string().optional(),
  model: z.string().optional(),
  model_file: z.string().optional(),
  tuples: tuplesSchema.nullish(),
  tuple_file: z.string().optional(),
  tuple_files: z.array(z.string()).optional(),
  tests: z.array(testSchema),
});

export function isStoreFile(document: unknown): boolean {
  const parsed = storeFileSchema.safeParse(document);
  return (
    parsed.success && (parsed.data.model !== undefined || parsed.data.model_file !== undefined)
  );
}

/** Reads a store file; `path` resolves its `model_file` and tuple files. */
export function readStoreFile(document: unknown, path: string): ConformanceCase[] {
  const file = storeFileSchema.parse(document);
  const base = dirname(path);
  const model = file.model ?? readFileSync(resolve(base, file.model_file ?? ""), "utf8");
  const global = [
    ...(file.tuples ?? []),
    ...[file.tuple_file, ...(file.tuple_files ?? [])].flatMap((each) =>
      each ? readTupleFile(resolve(base, each)) : [],
    ),
  ];
  return file.tests.map((test) => {
    const raw = [
      ...global,
      ...(test.tuples ?? []),
      ...(test.tuple_file ? readTupleFile(resolve(base, test.tuple_file)) : []),
    ];
    const conditioned = raw.find((each) => each.condition !== undefined);
    return {
      name: test.name,
      stages: [
        {
          model,
          tuples: raw.map(({ user, relation, object }): TupleKey => ({ user, relation, object })),
          assertions: assertionsOf(test),
          ...(conditioned && {
            unsupported: `tuple ${conditioned.object}#${conditioned.relation}@${conditioned.user} has a condition, which ConformanceTarget's TupleKey cannot carry`,
          }),
        },
      ],
    };
  });
}

function assertionsOf(test: z.infer<typeof testSchema>): Assertion[] {
  const checks = (test.check ?? []).flatMap((check) => {
    const users = check.users ?? (check.user ? [check.user] : []);
    const objects = check.objects ?? (check.object ? [check.object] : []);
    return users.flatMap((user) =>
      objects.flatMap((object) =>
        Object.entries(check.assertions).map(
          ([relation, allowed]): Assertion => ({
            api: "check",
            request: { user, relation, object, context: check.context },
            expect: { result: allowed },
          }),
        ),
      ),
    );
  });
  const lists = (test.list_objects ?? []).flatMap((list) =>
    Object.entries(list.assertions).map(
      ([relation, objects]): Assertion => ({
        api: "listObjects",
        request: { user: list.user, type: list.type, relation, context: list.context },
        expect: { result: objects ?? [] },
      }),
    ),
  );
  const users = (test.list_users ?? []).flatMap((list) =>
    Object.entries(list.assertions).map(
      ([relation, expected]): Assertion => ({
        api: "listUsers",
        request: {
          object: list.object,
          relation,
          userFilters: list.user_filter,
          context: list.context,
        },
        expect: { result: expected.users ?? [] },
      }),
    ),
  );
  return [...checks, ...lists, ...users];
}

/** Tuple files in YAML or JSON (a list of tuples). CSV tuple files are not supported here. */
function readTupleFile(path: string): z.infer<typeof tuplesSchema> {
  const extension = extname(path).toLowerCase();
  const text = readFileSync(path, "utf8");
  if (extension === ".yaml" || extension === ".yml") return tuplesSchema.parse(parse(text));
  if (extension === ".json") return tuplesSchema.parse(JSON.parse(text));
  throw new Error(`Unsupported tuple file ${path}: use .yaml, .yml or .json.`);
}
