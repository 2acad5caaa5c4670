import type { types } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import { suggestAgents } from "../core/index.js";
import type { SlackDeps, SlackPlace } from "./slack-deps.js";

/** The action id of "run this agent on my request" buttons. */
export const RUN_SUGGESTED_AGENT = "run_suggested_agent";

/**
 * The answer to a request that names no agent: the agents this person may run that fit,
 * each with a button. A button carries only an opaque id (ChatActions) for the request it
 * would run, so a click cannot be edited into running something else.
 */
export async function suggestionBlocks(
  deps: SlackDeps,
  principal: UserPrincipal,
  request: string,
  place: SlackPlace,
): Promise<{ text: string; blocks?: types.KnownBlock[] }> {
  const agents = await suggestAgents(deps, principal, request);
  if (agents.length === 0) {
    return {
      text: `You can't run any agents yet. Browse the directory and ask for access: ${deps.publicUrl}`,
    };
  }
  const blocks: types.KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: request
          ? "Which agent should take this? These are the ones you can run that fit:"
          : "Here are agents you can run. Pick one, or write `@agents <agent> <request>`:",
      },
    },
  ];
  for (const agent of agents) {
    const id = await deps.actions.create("slack", "run_agent", {
      agentName: agent.name,
      text: request,
      place,
    });
    const description =
      agent.description.length > 150 ? `${agent.description.slice(0, 147)}…` : agent.description;
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: `*${agent.title}* \`${agent.name}\`\n${description || " "}` },
      ...(request
        ? {
            accessory: {
              type: "button",
              action_id: RUN_SUGGESTED_AGENT,
              text: { type: "plain_text", text: "Run" },
              value: id,
            },
          }
        : {}),
    });
  }
  return { text: `Agents you can run: ${agents.map((agent) => agent.name).join(", ")}`, blocks };
}
