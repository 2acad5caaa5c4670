import { z } from "zod";
import { type OutcomesService, SPEND_GROUPS, type SpendService } from "../../governance/index.js";
import { defineRoute, type Route } from "./route-table.js";

const day = z.string().describe("A UTC day, YYYY-MM-DD");

/** Every value is checked by `SpendService`, which answers a bad one with a 400 in words. */
export const spendQuery = z.object({
  group_by: z
    .string()
    .optional()
    .describe(`What to group by: ${SPEND_GROUPS.join(", ")} (default team)`),
  from: day.optional().describe("First UTC day, included (default: the 1st of this month)"),
  to: day.optional().describe("Last UTC day, included (default: today)"),
  team: z.string().optional().describe("Only this team's spend (its slug)"),
  user: z.string().optional().describe("Only this person's spend (their email)"),
  agent: z.string().optional().describe("Only this agent's spend (its name)"),
  runtime: z.string().optional().describe("Only spend on this runtime"),
  model: z.string().optional().describe("Only spend on this model"),
});

const figures = { cost_usd: z.number(), runs: z.number().int() };

export const spendAnswer = z.object({
  group_by: z.enum(SPEND_GROUPS),
  from: day,
  to: day,
  visibility: z
    .enum(["all", "teams", "own"])
    .describe("What the figures cover: everyone's, your teams' and yours, or only yours"),
  total_usd: z.number(),
  estimated_usd: z
    .number()
    .describe(
      "The part of total_usd that is an estimate: runtimes that bill by their own meter (Cursor runs, AgentCore compute), priced at the rate their agent's manifest sets",
    ),
  runs: z
    .number()
    .int()
    .describe(
      "Runs first booked in the range: each run counts once, in the group and on the day of its first cost",
    ),
  items: z.array(
    z.object({
      key: z.string().nullable().describe("Team slug, email, agent name, runtime or model"),
      ...figures,
      estimated_usd: z.number().describe("The part of cost_usd that is an estimate"),
    }),
  ),
  days: z.array(z.object({ day, ...figures })).describe("Every day of the range, oldest first"),
});

/** GET /spend: the ledger grouped and per day, over what the caller may see. */
export function spendRoutes(spend: SpendService): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/spend",
      operationId: "getSpend",
      summary: "Spend grouped by team, person, agent, runtime or model, and per day",
      description:
        "Platform admins see all spend, a team's admins their team's (its agents' spend) and their own, everyone else their own. Naming a team or person whose spend you may not see is a 403.",
      authenticated: true,
      query: spendQuery,
      response: { status: 200, description: "Totals, groups and days", schema: spendAnswer },
      errors: [400, 403],
      async handle({ principal, query }) {
        return { body: await spend.report(principal, query) };
      },
    }),
  ];
}

export const outcomesQuery = z.object({
  agent: z
    .string()
    .optional()
    .describe("One agent's outcomes (its name); unset: every agent's (platform admins)"),
  from: day.optional().describe("First UTC day, included (default: 29 days before to)"),
  to: day.optional().describe("Last UTC day, included (default: today)"),
});

const outcome = z.object({
  runs: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  unfinished: z.number().int(),
  success_rate: z.number().nullable().describe("succeeded / (succeeded + failed)"),
  p50_seconds: z.number().nullable(),
  p95_seconds: z.number().nullable(),
  cost_usd: z.number(),
  cost_per_success_usd: z.number().nullable().describe("cost_usd / succeeded"),
  failures: z.array(z.object({ reason: z.string(), runs: z.number().int() })),
});

export const outcomesAnswer = z.object({
  from: day,
  to: day,
  total: outcome,
  agents: z.array(outcome.extend({ agent: z.string() })),
});

/** GET /outcomes: how runs turned out, per agent and across agents. */
export function outcomeRoutes(outcomes: OutcomesService): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/outcomes",
      operationId: "getOutcomes",
      summary:
        "Runs, success rate, failures by reason, p50/p95 duration and cost per successful run",
      description:
        "Of one agent (its owners and editors, and platform admins) or of every agent (platform admins), for the runs asked for in the range. Durations run from a run's start to its end; cost is everything booked to the runs in the ledger.",
      authenticated: true,
      query: outcomesQuery,
      response: {
        status: 200,
        description: "Outcomes, in total and per agent",
        schema: outcomesAnswer,
      },
      errors: [400, 403, 404],
      async handle({ principal, query }) {
        return { body: await outcomes.report(principal, query) };
      },
    }),
  ];
}
