import type { Knex } from "knex";
import { badRequest } from "../../core/index.js";

/** What to look for in the audit log; every field narrows, none means everything. */
export interface AuditFilter {
  /** An exact action (`budget.set`), or a family with a trailing `*` (`budget.*`). */
  action?: string | undefined;
  /** `user:EMAIL` or `system:NAME`; a bare email is taken as `user:EMAIL`. */
  actor?: string | undefined;
  /** `TYPE:ID` (`agent:triage`), or a bare `TYPE` for every target of that type. */
  target?: string | undefined;
  /** UTC days, both included (YYYY-MM-DD). */
  from?: string | undefined;
  to?: string | undefined;
  /** Only entries older than this id: the next page after one ending there. */
  before?: number | undefined;
  limit?: number | undefined;
}

export const MAX_AUDIT_LIMIT = 10_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function dayStart(name: string, value: string, offsetDays = 0): string {
  const date = new Date(`${value}T00:00:00Z`);
  if (
    !DAY.test(value) ||
    Number.isNaN(date.getTime()) ||
    date.toISOString().slice(0, 10) !== value
  ) {
    throw badRequest(`${name} must be a date as YYYY-MM-DD (a UTC day); "${value}" is not.`);
  }
  return new Date(date.getTime() + offsetDays * 86_400_000).toISOString();
}

/** Escapes LIKE's wildcards, so `budget_x.*` matches itself and not `budgetYx`. */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The audit log's rows matching a filter, newest first (the id orders them as written). A
 * filter it cannot read is a 400 in words.
 */
export function auditQuery(knex: Knex, filter: AuditFilter): Knex.QueryBuilder {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
    throw badRequest(`limit must be a whole number from 1 to ${MAX_AUDIT_LIMIT}.`);
  }
  const query = knex("audit_log").orderBy("id", "desc").limit(limit);
  if (filter.action) {
    if (filter.action.endsWith("*")) {
      query.whereRaw("action like ? escape '\\'", [likePrefix(filter.action.slice(0, -1))]);
    } else query.where("action", filter.action);
  }
  if (filter.actor) {
    const actor = /^(user|system):/.test(filter.actor) ? filter.actor : `user:${filter.actor}`;
    query.where("actor", actor.startsWith("user:") ? actor.toLowerCase() : actor);
  }
  if (filter.target) {
    const colon = filter.target.indexOf(":");
    if (colon === -1) query.where("target_type", filter.target);
    else {
      query.where("target_type", filter.target.slice(0, colon));
      query.where("target_id", filter.target.slice(colon + 1));
    }
  }
  const from = filter.from ? dayStart("from", filter.from) : undefined;
  const to = filter.to ? dayStart("to", filter.to, 1) : undefined;
  if (from && to && from >= to)
    throw badRequest(`from (${filter.from}) is after to (${filter.to}).`);
  if (from) query.where("occurred_at", ">=", from);
  if (to) query.where("occurred_at", "<", to);
  if (filter.before !== undefined) {
    if (!Number.isInteger(filter.before) || filter.before < 1) {
      throw badRequest("before must be an entry's id, a whole number.");
    }
    query.where("id", "<", filter.before);
  }
  return query;
}
