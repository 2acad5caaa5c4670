/**
 * Access requests: a person who may see an agent but not run it asks its owners; an owner
 * approves (the runner grant is written) or denies, once. The one owner of `access_requests`.
 */
export {
  ACCESS_REQUEST_STATUSES,
  type AccessRequest,
  type AccessRequestStatus,
} from "./access-request.js";
export {
  type AccessRequestNotice,
  AccessRequestNotifiers,
  accessDecisionNotice,
  accessOutcomeQuotes,
  accessRequestNotice,
  sharedAccessDecisionNotice,
} from "./access-request-notifiers.js";
export {
  type AccessDecisionInput,
  type AccessDecisionResult,
  type AccessRequestNotifier,
  AccessRequests,
  type AccessRequestsOptions,
  MAX_ACCESS_REASON_CHARS,
} from "./access-requests.js";
