import type { Knex } from "knex";
import { badRequest } from "../../core/index.js";

/**
 * Who a spend figure or a budget is about: a team (by slug), an agent (by name), a person
 * (by email) or the whole platform. Written `team:SLUG`, `agent:NAME`, `user:EMAIL` or
 * `platform`, the same in the API, the CLI and the site.
 */
export type SpendScope =
  | { type: "platform" }
  | { type: "team"; key: string }
  | { type: "agent"; key: string }
  | { type: "user"; key: string };

const SCOPE_PATTERN = /^(team|agent|user):([^\s:][^\s]{0,199})$/;

/** The scope a `team:SLUG | agent:NAME | user:EMAIL | platform` string names, or a 400 in words. */
export function parseScope(text: unknown): SpendScope {
  if (text === "platform") return { type: "platform" };
  const match = typeof text === "string" ? SCOPE_PATTERN.exec(text.trim()) : null;
  if (!match) {
    throw badRequest(
      `scope must be "team:SLUG", "agent:NAME", "user:EMAIL" or "platform"; got ${JSON.stringify(text ?? null)}.`,
    );
  }
  const type = match[1] as "team" | "agent" | "user";
  const key = type === "user" ? (match[2] as string).toLowerCase() : (match[2] as string);
  if (type === "user" && !key.includes("@")) {
    throw badRequest(`A user scope names a person by email, as "user:ada@example.com".`);
  }
  return { type, key };
}

export function scopeText(scope: SpendScope): string {
  return scope.type === "platform" ? "platform" : `${scope.type}:${scope.key}`;
}

/**
 * Which ledger rows count for a scope. A team's spend is what is booked to the team and
 * what its agents (owner `team:SLUG`) spend; an agent's, every agent ever registered under
 * the name (a retired one's history stays its own only by id, but a budget is by name).
 */
export function whereInScope(knex: Knex, sql: Knex.QueryBuilder, scope: SpendScope): void {
  switch (scope.type) {
    case "platform":
      return;
    case "user":
      sql.whereIn("user_id", knex("users").select("id").where({ email: scope.key }));
      return;
    case "agent":
      sql.whereIn("agent_id", knex("agents").select("id").where({ name: scope.key }));
      return;
    case "team":
      sql.where((q) =>
        q.whereIn("team_id", knex("teams").select("id").where({ slug: scope.key })).orWhereIn(
          "agent_id",
          knex("agents")
            .select("id")
            .where({ owner: `team:${scope.key}` }),
        ),
      );
      return;
  }
}
