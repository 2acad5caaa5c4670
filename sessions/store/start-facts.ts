import type { Knex } from "knex";
import { userIsActive } from "../../authz/index.js";
import { budgetsMayApply } from "../../governance/index.js";
import type { SessionSurface } from "../records.js";

/** What starting a run checks before it admits one, read in one statement. */
export interface StartFacts {
  /** The agents of the conversation's sessions (empty without a conversation). */
  conversationAgentIds: string[];
  /** The run a request with this idempotency key already started. */
  repeatedRunId: string | undefined;
  /** The person is active (false when deactivated, deleted or unknown). */
  personActive: boolean;
  /** Some budget may apply to this run (see governance's budgetsMayApply). */
  budgetsMayApply: boolean;
}

/**
 * The conversation's agents (is it a retired agent's?), the run of a repeated idempotency
 * key, whether the person is active and whether any budget may apply, in one round trip:
 * under a chat burst every mention waits for its turn behind these, one after another.
 * Each module still owns its part: the person's rule is authz's, the budgets governance's.
 */
export async function readStartFacts(
  knex: Knex,
  request: {
    userId: string;
    userEmail: string;
    agentName: string;
    conversation?: { surface: SessionSurface; conversationKey: string } | undefined;
    idempotencyKey?: string | undefined;
  },
): Promise<StartFacts> {
  const { conversation, idempotencyKey } = request;
  const agents = conversation
    ? knex("sessions")
        .select(knex.raw("coalesce(json_agg(agent_id), '[]'::json)"))
        .where({ surface: conversation.surface, conversation_key: conversation.conversationKey })
    : knex.raw("'[]'::json");
  const repeated = idempotencyKey
    ? knex("runs").select("id").where({ idempotency_key: idempotencyKey })
    : knex.raw("null::uuid");
  const row = (await knex
    .select(
      knex.raw("? as agents", [agents]),
      knex.raw("? as repeated", [repeated]),
      userIsActive(knex, request.userId).as("active"),
      knex.raw("? as budgets", [budgetsMayApply(knex, request)]),
    )
    .first()) as {
    agents: unknown;
    repeated: string | null;
    active: boolean | null;
    budgets: boolean;
  };
  const ids = typeof row.agents === "string" ? JSON.parse(row.agents) : row.agents;
  return {
    conversationAgentIds: (ids as string[]).map(String),
    repeatedRunId: row.repeated ?? undefined,
    personActive: row.active === true,
    budgetsMayApply: row.budgets === true,
  };
}
