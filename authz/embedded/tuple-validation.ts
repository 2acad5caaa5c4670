/**
 * Validation of users, objects and tuples against a model, with OpenFGA's rules. Each
 * function returns the problem (or undefined) and lets the caller pick the error code,
 * because OpenFGA answers the same problem with different codes in different APIs: an
 * undefined relation is 2000 in Check, 2022 in ListObjects, 2027 in a contextual tuple.
 */

import type { TupleKey } from "../types.js";
import { classifyStoredUser, parseObject, parseUser } from "./identifiers.js";
import type { AuthorizationModel, RelationDefinition } from "./model.js";

export interface Problem {
  kind: "malformed" | "type_not_found" | "relation_not_found" | "not_allowed";
  message: string;
}

/** A user string: well formed, of a type the model defines; a userset's relation must exist. */
export function userProblem(model: AuthorizationModel, user: string): Problem | undefined {
  const parsed = parseUser(user);
  if (!parsed) {
    return malformed(`user "${user}" must be "type:id", "type:*" or "type:id#relation"`);
  }
  if (!model.hasType(parsed.type)) return typeNotFound(parsed.type);
  if (parsed.relation !== undefined) {
    if (parsed.wildcard) return malformed(`user "${user}" cannot be a userset of a wildcard`);
    if (!model.relation(parsed.type, parsed.relation)) {
      return relationNotFound(parsed.type, parsed.relation);
    }
  }
  return undefined;
}

/** An object string naming one object of a defined type (never a wildcard). */
export function objectProblem(model: AuthorizationModel, object: string): Problem | undefined {
  const parsed = parseObject(object);
  if (!parsed) return malformed(`object "${object}" must be "type:id"`);
  if (parsed.id === "*") return malformed(`object "${object}" cannot be a wildcard`);
  if (!model.hasType(parsed.type)) return typeNotFound(parsed.type);
  return undefined;
}

/** OpenFGA's ValidateUserObjectRelation: the loose validation of a Check request's tuple. */
export function requestTupleProblem(
  model: AuthorizationModel,
  tuple: TupleKey,
): Problem | undefined {
  return (
    userProblem(model, tuple.user) ??
    objectProblem(model, tuple.object) ??
    relationProblem(model, tuple.object.slice(0, tuple.object.indexOf(":")), tuple.relation)
  );
}

export function typeProblem(model: AuthorizationModel, type: string): Problem | undefined {
  return model.hasType(type) ? undefined : typeNotFound(type);
}

export function relationProblem(
  model: AuthorizationModel,
  type: string,
  relation: string,
): Problem | undefined {
  if (!model.hasType(type)) return typeNotFound(type);
  if (!model.relation(type, relation)) return relationNotFound(type, relation);
  return undefined;
}

/**
 * The strict validation of a tuple to write (and of a contextual tuple): on top of the
 * loose checks, the relation must be directly assignable, a tupleset relation must name a
 * plain object, and the user must satisfy the relation's type restrictions.
 */
export function writableTupleProblem(
  model: AuthorizationModel,
  tuple: TupleKey,
): Problem | undefined {
  const loose = requestTupleProblem(model, tuple);
  if (loose) return loose;
  const definition = model.relation(
    tuple.object.slice(0, tuple.object.indexOf(":")),
    tuple.relation,
  ) as RelationDefinition;
  const where = `${definition.objectType}#${definition.name}`;
  const user = classifyStoredUser(tuple.user);
  if (definition.tupleset && user.kind !== "object") {
    return notAllowed(
      `${where} is read by "x from ${definition.name}", so its user must be an object, not "${tuple.user}"`,
    );
  }
  if (!definition.assignable) {
    return notAllowed(`${where} is not directly assignable: it is computed from other relations`);
  }
  if (!model.allows(definition, user)) {
    return notAllowed(`"${tuple.user}" is not an allowed type for ${where}`);
  }
  return undefined;
}

export function describeTuple(tuple: TupleKey): string {
  return `${tuple.object}#${tuple.relation}@${tuple.user}`;
}

function malformed(message: string): Problem {
  return { kind: "malformed", message };
}

function typeNotFound(type: string): Problem {
  return { kind: "type_not_found", message: `type "${type}" is not defined in the model` };
}

function relationNotFound(type: string, relation: string): Problem {
  return {
    kind: "relation_not_found",
    message: `relation "${relation}" is not defined on type "${type}"`,
  };
}

function notAllowed(message: string): Problem {
  return { kind: "not_allowed", message };
}
