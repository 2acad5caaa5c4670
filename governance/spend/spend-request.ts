import { badRequest } from "../../core/index.js";

/** What spend can be grouped by: one figure per team, person, agent, runtime or model. */
export const SPEND_GROUPS = ["team", "user", "agent", "runtime", "model"] as const;
export type SpendGroup = (typeof SPEND_GROUPS)[number];

/** The filters, as people write them: a team's slug, a person's email, an agent's name. */
export interface SpendFilters {
  team?: string | undefined;
  user?: string | undefined;
  agent?: string | undefined;
  runtime?: string | undefined;
  model?: string | undefined;
}

/** A checked request: UTC days `from` to `to`, both included. */
export interface SpendRequest {
  groupBy: SpendGroup;
  /** YYYY-MM-DD, UTC. */
  from: string;
  to: string;
  filters: SpendFilters;
}

const DAY_MS = 86_400_000;
/** A year and a bit: a whole year grouped by day stays one page, and one query. */
export const MAX_SPEND_DAYS = 400;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "2026-12-06" → its midnight UTC, or undefined when it is not a real day in that form. */
export function parseDay(text: string): Date | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  // Date.UTC rolls 2026-02-30 over into March; a day that rolled is not the day asked for.
  return date.toISOString().slice(0, 10) === text ? date : undefined;
}

export const dayOf = (date: Date) => date.toISOString().slice(0, 10);
export const nextDay = (day: string) => dayOf(new Date((parseDay(day) as Date).getTime() + DAY_MS));

/** The days from `from` to `to`, both included, oldest first. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const end = (parseDay(to) as Date).getTime();
  for (let t = (parseDay(from) as Date).getTime(); t <= end; t += DAY_MS)
    days.push(dayOf(new Date(t)));
  return days;
}

type Raw = Record<string, unknown>;

function text(raw: Raw, name: string, max = 320): string | undefined {
  const value = Array.isArray(raw[name]) ? (raw[name] as unknown[])[0] : raw[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badRequest(`${name}: give one value as text.`);
  const trimmed = value.trim();
  if (trimmed.length > max) throw badRequest(`${name}: at most ${max} characters.`);
  return trimmed === "" ? undefined : trimmed;
}

/**
 * Checks a spend request from a query string (the API's and the site's, alike) and fills
 * in what was left out: grouped by team, from the first of this month to today (UTC).
 * Anything it cannot read is a 400 that says what to send instead.
 */
export function parseSpendRequest(raw: Raw, now = new Date()): SpendRequest {
  const groupBy = text(raw, "group_by") ?? "team";
  if (!(SPEND_GROUPS as readonly string[]).includes(groupBy)) {
    throw badRequest(`group_by must be one of ${SPEND_GROUPS.join(", ")}; "${groupBy}" is not.`);
  }
  const today = dayOf(now);
  const from = text(raw, "from") ?? `${today.slice(0, 8)}01`;
  const to = text(raw, "to") ?? today;
  for (const [name, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (!parseDay(value)) {
      throw badRequest(`${name} must be a date as YYYY-MM-DD (a UTC day); "${value}" is not.`);
    }
  }
  if (from > to) throw badRequest(`from (${from}) is after to (${to}); give from first.`);
  if (daysBetween(from, to).length > MAX_SPEND_DAYS) {
    throw badRequest(`Ask for at most ${MAX_SPEND_DAYS} days at a time.`);
  }
  return {
    groupBy: groupBy as SpendGroup,
    from,
    to,
    filters: {
      team: text(raw, "team", 200),
      user: text(raw, "user")?.toLowerCase(),
      agent: text(raw, "agent", 200),
      runtime: text(raw, "runtime", 200),
      model: text(raw, "model", 200),
    },
  };
}
