/**
 * Compiles an OpenFGA DSL model (schema 1.1) into our indexed AuthorizationModel.
 *
 * Parsing and the model rules OpenFGA enforces when a model is written (undefined types or
 * relations, `x from y` where `y` is not a direct relation, relations with no entry point,
 * computed-userset loops…) are delegated to `@openfga/syntax-transformer`, the parser and
 * validator OpenFGA's own tooling uses, so "valid" means the same thing here as on a server.
 */

import type { AuthorizationModel as OpenFgaModel, RelationReference, Userset } from "@openfga/sdk";
import { transformer, validator } from "@openfga/syntax-transformer";
import { AuthzError } from "./errors.js";
import {
  AuthorizationModel,
  type RelationDefinition,
  type Rewrite,
  type TypeDefinition,
  type TypeRestrictions,
} from "./model.js";

/** Parses, validates and indexes a DSL model. Throws AuthzError for anything OpenFGA would refuse. */
export function compileModel(dsl: string): AuthorizationModel {
  const json = parseDsl(dsl);
  if (json.schema_version !== "1.1") {
    throw new AuthzError(
      "unsupported_schema_version",
      `The embedded evaluator supports OpenFGA schema 1.1 models only; this model declares schema ${json.schema_version}.`,
    );
  }
  refuseConditions(json);
  try {
    validator.validateDSL(dsl);
  } catch (error) {
    throw new AuthzError(
      "invalid_model",
      `The authorization model is invalid: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
  return indexModel(json);
}

function parseDsl(dsl: string): Omit<OpenFgaModel, "id"> {
  try {
    return transformer.transformDSLToJSONObject(dsl);
  } catch (error) {
    throw new AuthzError(
      "invalid_model",
      `The authorization model does not parse: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Conditions need a CEL evaluator; rather than ignore them (and grant too much), refuse the model. */
function refuseConditions(json: Omit<OpenFgaModel, "id">): void {
  const declared = Object.keys(json.conditions ?? {});
  const used = json.type_definitions.flatMap((typeDef) =>
    Object.entries(typeDef.metadata?.relations ?? {}).flatMap(([relation, meta]) =>
      (meta.directly_related_user_types ?? [])
        .filter((ref) => ref.condition)
        .map((ref) => `${typeDef.type}#${relation} (${ref.type} with ${ref.condition})`),
    ),
  );
  if (declared.length === 0 && used.length === 0) return;
  const where = used.length > 0 ? used.join(", ") : `condition ${declared.join(", ")}`;
  throw new AuthzError(
    "conditions_unsupported",
    `Conditions are not supported by the embedded evaluator (found ${where}). Configure an OpenFGA server to use conditional relationships.`,
  );
}

function indexModel(json: Omit<OpenFgaModel, "id">): AuthorizationModel {
  const types = new Map<string, TypeDefinition>();
  for (const typeDef of json.type_definitions) {
    const tuplesets = new Set<string>();
    for (const userset of Object.values(typeDef.relations ?? {}))
      collectTuplesets(userset, tuplesets);
    const relations = new Map<string, RelationDefinition>();
    for (const [name, userset] of Object.entries(typeDef.relations ?? {})) {
      const rewrite = toRewrite(userset);
      const allowed = toRestrictions(
        typeDef.metadata?.relations?.[name]?.directly_related_user_types,
      );
      relations.set(name, {
        objectType: typeDef.type,
        name,
        rewrite,
        allowed,
        assignable: containsDirect(rewrite),
        tupleset: tuplesets.has(name),
        allowsIndirectUsers: allowed.wildcardTypes.size > 0 || allowed.usersetTypes.size > 0,
      });
    }
    types.set(typeDef.type, { name: typeDef.type, relations });
  }
  return new AuthorizationModel(types);
}

function toRewrite(userset: Userset): Rewrite {
  if (userset.this !== undefined) return { kind: "direct" };
  if (userset.computedUserset) {
    return { kind: "computed", relation: required(userset.computedUserset.relation) };
  }
  if (userset.tupleToUserset) {
    return {
      kind: "tupleToUserset",
      tupleset: required(userset.tupleToUserset.tupleset.relation),
      computedRelation: required(userset.tupleToUserset.computedUserset.relation),
    };
  }
  if (userset.union) return { kind: "union", children: userset.union.child.map(toRewrite) };
  if (userset.intersection) {
    return { kind: "intersection", children: userset.intersection.child.map(toRewrite) };
  }
  if (userset.difference) {
    return {
      kind: "exclusion",
      base: toRewrite(userset.difference.base),
      subtract: toRewrite(userset.difference.subtract),
    };
  }
  throw new AuthzError(
    "invalid_model",
    "The authorization model has an empty relation definition.",
  );
}

function toRestrictions(refs: RelationReference[] | undefined): TypeRestrictions {
  const objectTypes = new Set<string>();
  const wildcardTypes = new Set<string>();
  const usersetTypes = new Set<string>();
  for (const ref of refs ?? []) {
    if (ref.wildcard !== undefined) wildcardTypes.add(ref.type);
    else if (ref.relation) usersetTypes.add(`${ref.type}#${ref.relation}`);
    else objectTypes.add(ref.type);
  }
  return { objectTypes, wildcardTypes, usersetTypes };
}

function collectTuplesets(userset: Userset, into: Set<string>): void {
  if (userset.tupleToUserset?.tupleset.relation) into.add(userset.tupleToUserset.tupleset.relation);
  for (const child of userset.union?.child ?? []) collectTuplesets(child, into);
  for (const child of userset.intersection?.child ?? []) collectTuplesets(child, into);
  if (userset.difference) {
    collectTuplesets(userset.difference.base, into);
    collectTuplesets(userset.difference.subtract, into);
  }
}

function containsDirect(rewrite: Rewrite): boolean {
  switch (rewrite.kind) {
    case "direct":
      return true;
    case "union":
    case "intersection":
      return rewrite.children.some(containsDirect);
    case "exclusion":
      return containsDirect(rewrite.base) || containsDirect(rewrite.subtract);
    default:
      return false;
  }
}

function required(value: string | undefined): string {
  if (!value)
    throw new AuthzError(
      "invalid_model",
      "The authorization model references an unnamed relation.",
    );
  return value;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
