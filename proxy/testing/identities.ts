import type { Knex } from "knex";

export interface TestIdentities {
  userId: string;
  teamId: string;
  agentId: string;
  sessionId: string;
  runId: string;
}

/** A user in a team, an agent, a session and a run: what a run's proxy key names. */
export async function createIdentities(knex: Knex, label: string): Promise<TestIdentities> {
  const [user] = await knex("users")
    .insert({ email: `${label}@example.com` })
    .returning("id");
  const [team] = await knex("teams")
    .insert({ slug: `team-${label}`, name: `Team ${label}` })
    .returning("id");
  const [agent] = await knex("agents")
    .insert({
      name: `agent-${label}`,
      title: "Agent",
      owner: `team:${label}`,
      runtime_type: "http",
      manifest: "{}",
      manifest_digest: "x",
    })
    .returning("id");
  const [session] = await knex("sessions")
    .insert({ agent_id: agent.id, user_id: user.id, surface: "api", conversation_key: label })
    .returning("id");
  const [run] = await knex("runs")
    .insert({ session_id: session.id, agent_id: agent.id, user_id: user.id, input: "hello" })
    .returning("id");
  return {
    userId: user.id,
    teamId: team.id,
    agentId: agent.id,
    sessionId: session.id,
    runId: run.id,
  };
}
