/**
 * Request validation with OpenFGA's error codes and order of checks, which differ per API:
 * - Check validates its tuple loosely (any problem is a 2000 validation error), then its
 *   contextual tuples strictly (2027).
 * - ListObjects validates contextual tuples (2027), then the type and relation (2021/2022),
 *   then the user (2000).
 * - ListUsers validates contextual tuples (2027), then the user filter's type and relation
 *   (2021/2022), then the object's type and relation (2021/2022).
 */

import type { CheckRequest, ListObjectsRequest, ListUsersRequest, TupleKey } from "../types.js";
import { AuthzError, type AuthzErrorCode } from "./errors.js";
import type { AuthorizationModel } from "./model.js";
import {
  describeTuple,
  objectProblem,
  type Problem,
  relationProblem,
  requestTupleProblem,
  typeProblem,
  userProblem,
  writableTupleProblem,
} from "./tuple-validation.js";

export function validateCheckRequest(model: AuthorizationModel, request: CheckRequest): void {
  const problem = requestTupleProblem(model, request);
  if (problem) {
    throw new AuthzError(
      "validation_error",
      `Invalid check of ${describeTuple(request)}: ${problem.message}.`,
    );
  }
  validateContextualTuples(model, request.contextualTuples);
}

export function validateListObjectsRequest(
  model: AuthorizationModel,
  request: ListObjectsRequest,
): void {
  validateContextualTuples(model, request.contextualTuples);
  const target = relationProblem(model, request.type, request.relation);
  if (target) throw byKind(target, `Cannot list ${request.type} objects`);
  const user = userProblem(model, request.user);
  if (user)
    throw new AuthzError("validation_error", `Invalid user for list objects: ${user.message}.`);
}

export function validateListUsersRequest(
  model: AuthorizationModel,
  request: ListUsersRequest,
): void {
  validateContextualTuples(model, request.contextualTuples);
  if (request.userFilters.length !== 1) {
    throw new AuthzError(
      "validation_error",
      `List users takes exactly one user filter; got ${request.userFilters.length}.`,
    );
  }
  for (const filter of request.userFilters) {
    const problem = filter.relation
      ? relationProblem(model, filter.type, filter.relation)
      : typeProblem(model, filter.type);
    if (problem) throw byKind(problem, "Invalid user filter");
  }
  const object = objectProblem(model, request.object);
  if (object?.kind === "malformed") {
    throw new AuthzError("validation_error", `Invalid object for list users: ${object.message}.`);
  }
  const target = object ?? relationProblem(model, typeOfObject(request.object), request.relation);
  if (target) throw byKind(target, `Cannot list users of ${request.object}`);
}

/** Contextual tuples are held to the rules of a written tuple; any breach is OpenFGA's 2027. */
export function validateContextualTuples(
  model: AuthorizationModel,
  tuples: readonly TupleKey[] | undefined,
): void {
  for (const tuple of tuples ?? []) {
    const problem = writableTupleProblem(model, tuple);
    if (problem) {
      throw new AuthzError(
        "invalid_contextual_tuple",
        `Invalid contextual tuple ${describeTuple(tuple)}: ${problem.message}.`,
      );
    }
  }
}

/** Validates a tuple about to be stored, as OpenFGA's Write does (2027). */
export function validateTupleForWrite(model: AuthorizationModel, tuple: TupleKey): void {
  const problem = writableTupleProblem(model, tuple);
  if (problem) {
    throw new AuthzError(
      "invalid_tuple",
      `Invalid tuple ${describeTuple(tuple)}: ${problem.message}.`,
    );
  }
}

function byKind(problem: Problem, context: string): AuthzError {
  const codes: Record<Problem["kind"], AuthzErrorCode> = {
    malformed: "validation_error",
    not_allowed: "validation_error",
    type_not_found: "type_not_found",
    relation_not_found: "relation_not_found",
  };
  return new AuthzError(codes[problem.kind], `${context}: ${problem.message}.`);
}

function typeOfObject(object: string): string {
  return object.slice(0, object.indexOf(":"));
}
