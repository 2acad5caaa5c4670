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
