/**
 * The embedded evaluator's entry point: Check, ListObjects and ListUsers over one compiled
 * model and a tuple reader (normally the TupleIndex), answering as an OpenFGA server would —
 * the same results, the same validation errors with the same codes.
 *
 * Each request validates, layers its contextual tuples over the stored ones (never storing
 * them) and resolves with a fresh CheckResolver, whose memo therefore lives exactly as long
 * as the request.
 */

import type {
  CheckRequest,
  ListObjectsRequest,
  ListUsersRequest,
  TupleKey,
  UserFilter,
} from "../types.js";
import { CheckResolver, Outcome } from "./check-resolver.js";
import { AuthzError } from "./errors.js";
import { listObjects } from "./list-objects.js";
import { listUsers } from "./list-users.js";
import type { AuthorizationModel } from "./model.js";
import {
  validateCheckRequest,
  validateContextualTuples,
  validateListObjectsRequest,
  validateListUsersRequest,
  validateTupleForWrite,
} from "./request-validation.js";
import { ContextualTupleReader, type TupleReader } from "./tuple-reader.js";

/** Several checks of one user and relation on many objects, e.g. filtering a page of agents. */
export interface BatchCheckRequest {
  user: string;
  relation: string;
  objects: readonly string[];
  contextualTuples?: TupleKey[];
}

export class ModelEvaluator {
  readonly model: AuthorizationModel;
  private readonly tuples: TupleReader;

  constructor(model: AuthorizationModel, tuples: TupleReader) {
    this.model = model;
    this.tuples = tuples;
  }

  /** Whether `user` has `relation` on `object`. */
  check(request: CheckRequest): boolean {
    validateCheckRequest(this.model, request);
    const resolver = this.resolverFor(request.contextualTuples);
    return allowed(resolver.check(request.object, request.relation, request.user), request);
  }

  /**
   * The answers to one check per object, in order. Sub-results (the user's teams, say) are
   * resolved once for the whole batch.
   */
  batchCheck(request: BatchCheckRequest): boolean[] {
    const { user, relation, contextualTuples } = request;
    for (const object of request.objects) {
      validateCheckRequest(this.model, { user, relation, object });
    }
    validateContextualTuples(this.model, contextualTuples);
    const resolver = this.resolverFor(contextualTuples);
    return request.objects.map((object) =>
      allowed(resolver.check(object, relation, user), { user, relation, object }),
    );
  }

  /** Objects of `type` on which `user` has `relation` (unordered). */
  listObjects(request: ListObjectsRequest): string[] {
    validateListObjectsRequest(this.model, request);
    const reader = ContextualTupleReader.over(this.tuples, request.contextualTuples);
    return listObjects(this.model, reader, new CheckResolver(this.model, reader), request);
  }

  /** Users (or usersets) matching the one filter that have `relation` on `object` (unordered). */
  listUsers(request: ListUsersRequest): string[] {
    validateListUsersRequest(this.model, request);
    const reader = ContextualTupleReader.over(this.tuples, request.contextualTuples);
    const filter = normalizeFilter(request.userFilters[0] as UserFilter);
    return listUsers(this.model, reader, new CheckResolver(this.model, reader), {
      object: request.object,
      relation: request.relation,
      filter,
    });
  }

  /** Throws AuthzError `invalid_tuple` (2027) unless OpenFGA would accept writing this tuple. */
  validateTupleForWrite(tuple: TupleKey): void {
    validateTupleForWrite(this.model, tuple);
  }

  private resolverFor(contextualTuples: readonly TupleKey[] | undefined): CheckResolver {
    return new CheckResolver(this.model, ContextualTupleReader.over(this.tuples, contextualTuples));
  }
}

function allowed(outcome: Outcome, request: TupleKey): boolean {
  if (outcome === Outcome.tooDeep) {
    throw new AuthzError(
      "resolution_too_complex",
      `Checking ${request.object}#${request.relation}@${request.user} needs more than 25 levels of resolution.`,
    );
  }
  return outcome === Outcome.allowed;
}

function normalizeFilter(filter: UserFilter): UserFilter {
  return filter.relation ? filter : { type: filter.type };
}
