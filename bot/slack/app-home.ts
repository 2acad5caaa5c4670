import type { App, types } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import type { Agent } from "../../directory/index.js";
import { costText } from "../chat/index.js";
import { monthlySpend } from "./monthly-spend.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import { agentPageUrl, type SlackDeps } from "./slack-deps.js";

type KnownBlock = types.KnownBlock;

const AGENTS_SHOWN = 10;
const SESSIONS_SHOWN = 5;

/**
 * App Home: the agents this person can run, their recent sessions and their spend this
 * month, published afresh each time they open the tab (`app_home_opened` also fires for the
 * Messages tab, which shows the DM and needs nothing).
 */
export function registerAppHome(app: App, deps: SlackDeps): void {
  app.event("app_home_opened", async ({ event, context, client }) => {
    // A signed event without its person (Slack always names one) has no Home to publish.
    if (event.tab !== "home" || typeof event.user !== "string" || !event.user) return;
    const team = context.teamId ?? "";
    const person = await deps.identities.person(client, team, event.user);
    const blocks =
      "refusal" in person
        ? [section(escapeMrkdwn(person.refusal))]
        : await homeBlocks(deps, person.principal);
    await client.views.publish({ user_id: event.user, view: { type: "home", blocks } });
  });
}

export async function homeBlocks(deps: SlackDeps, person: UserPrincipal): Promise<KnownBlock[]> {
  const [agents, sessions, spend] = await Promise.all([
    runnableAgents(deps, person),
    deps.runs.listSessions(person, { limit: SESSIONS_SHOWN }),
    monthlySpend(deps.knex, person.userId),
  ]);
  const name = person.displayName ?? person.email;
  const month = spend.since.toLocaleString("en", { month: "long", timeZone: "UTC" });
  const cost = costText(spend.costUsd) ?? "$0.00";
  const runs = `${spend.runs} run${spend.runs === 1 ? "" : "s"}`;
  return [
    { type: "header", text: { type: "plain_text", text: `Switchboard for ${name}`.slice(0, 150) } },
    section(`*Your spend in ${month}:* ${cost} over ${runs}`),
    { type: "divider" },
    section(`*Agents you can run* (${agents.total})`),
    section(
      agents.shown.length > 0
        ? agents.shown.map((agent) => agentLine(deps, agent)).join("\n")
        : `None yet. Browse the directory and ask for access on an agent's page.`,
    ),
    context(
      `<${deps.publicUrl}/agents|Browse the directory>  ·  Run one with \`/agents run &lt;agent&gt; &lt;request&gt;\` or \`@agents &lt;agent&gt; &lt;request&gt;\` in a channel`,
    ),
    { type: "divider" },
    section("*Your recent sessions*"),
    section(
      sessions.items.length > 0
        ? sessions.items
            .map(({ session, agentName, agentRetired }) => {
              const title = escapeMrkdwn(session.title || "(untitled)");
              const agent = agentName && agentRetired ? `${agentName} (retired)` : agentName;
              const when = Math.floor(session.lastActivityAt.getTime() / 1000);
              return `• *${agent ?? "a retired agent"}*: <${deps.publicUrl}/sessions/${session.id}|${title}>  ·  <!date^${when}^{date_short_pretty} {time}|${session.lastActivityAt.toISOString()}>`;
            })
            .join("\n")
        : "No sessions yet: mention `@agents` in a channel to start one.",
    ),
    context(`<${deps.publicUrl}/sessions|All your sessions>`),
  ];
}

function agentLine(deps: SlackDeps, agent: Agent): string {
  const description =
    agent.description.length > 80 ? `${agent.description.slice(0, 79)}…` : agent.description;
  return `• *<${agentPageUrl(deps, agent.name)}|${escapeMrkdwn(agent.title)}>* \`${agent.name}\`${description ? `: ${escapeMrkdwn(description)}` : ""}`;
}

/** The first agents by name the person may run (enabled ones), and how many they may run. */
async function runnableAgents(
  deps: SlackDeps,
  person: UserPrincipal,
): Promise<{ shown: Agent[]; total: number }> {
  const names = (await deps.directory.agentNamesFor(person, "runner")).sort();
  const shown: Agent[] = [];
  // A few more than shown, in case some are suspended or disabled.
  const candidates = await deps.registry.catalog.findLive(names.slice(0, AGENTS_SHOWN * 2));
  for (const agent of candidates) {
    if (agent.state === "enabled" && shown.length < AGENTS_SHOWN) shown.push(agent);
  }
  return { shown, total: names.length };
}

function section(text: string): KnownBlock {
  return { type: "section", text: { type: "mrkdwn", text: text.slice(0, 3_000) } };
}

function context(text: string): KnownBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text }] };
}
