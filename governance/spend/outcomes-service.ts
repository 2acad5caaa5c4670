import type { Knex } from "knex";
import { type AccessPolicy, agentObject, PLATFORM, type Principal } from "../../authz/index.js";
import { badRequest, forbidden, notFound } from "../../core/index.js";
import { type OutcomeFigures, runOutcomes } from "./run-outcomes.js";
import { dayOf, daysBetween, MAX_SPEND_DAYS, parseDay } from "./spend-request.js";

export interface OutcomesAnswer extends OutcomeFigures {
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;

function day(raw: Record<string, unknown>, name: string, fallback: string): string {
  const value = raw[name];
  if (value === undefined || value === "") return fallback;
  if (typeof value !== "string" || !parseDay(value.trim())) {
    throw badRequest(
      `${name} must be a date as YYYY-MM-DD (a UTC day); "${String(value)}" is not.`,
    );
  }
  return value.trim();
}

/**
 * Outcomes of runs (how many, how many succeeded, why the rest failed, how long they took,
 * what each success cost). An agent's are for those who may change it (its owners and
 * editors, its team's admins, platform admins); across agents, for platform admins.
 */
export class OutcomesService {
  constructor(
    private readonly knex: Knex,
    private readonly access: AccessPolicy,
  ) {}

  /** From `from` to `to` (UTC days, both included; default the last 30 days), of `agent` or of all. */
  async report(principal: Principal, raw: Record<string, unknown>): Promise<OutcomesAnswer> {
    const today = dayOf(new Date());
    const to = day(raw, "to", today);
    const from = day(raw, "from", dayOf(new Date((parseDay(to) as Date).getTime() - 29 * DAY_MS)));
    if (from > to) throw badRequest(`from (${from}) is after to (${to}); give from first.`);
    if (daysBetween(from, to).length > MAX_SPEND_DAYS) {
      throw badRequest(`Ask for at most ${MAX_SPEND_DAYS} days at a time.`);
    }
    const agent =
      typeof raw.agent === "string" && raw.agent.trim() !== "" ? raw.agent.trim() : undefined;
    if (agent === undefined) {
      if (!(await this.access.can(principal, "admin", PLATFORM))) {
        throw forbidden(
          "Only platform admins see outcomes across agents; name an agent you may change (agent=NAME).",
        );
      }
      return { from, to, ...(await runOutcomes(this.knex, { from, to })) };
    }
    const object = agentObject(agent);
    const live = (await this.knex("agents")
      .where({ name: agent })
      .whereNull("retired_at")
      .first("id")) as { id: string } | undefined;
    if (!live || !(await this.access.can(principal, "viewer", object))) {
      throw notFound(`The agent "${agent}"`);
    }
    if (!(await this.access.can(principal, "editor", object))) {
      throw forbidden(
        `Only the owners and editors of "${agent}", and platform admins, see its outcomes.`,
      );
    }
    return { from, to, ...(await runOutcomes(this.knex, { from, to, agentIds: [live.id] })) };
  }
}
