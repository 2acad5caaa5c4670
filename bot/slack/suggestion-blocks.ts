import type { types } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import { suggestAgents } from "../chat/index.js";
import { agentListBlocks } from "./agent-card-blocks.js";
import { agentPageUrl, type SlackDeps, type SlackPlace } from "./slack-deps.js";

/** The action id suggestion buttons had before every button shared one dispatcher. */
export const RUN_SUGGESTED_AGENT = "run_suggested_agent";

/**
 * The answer to a request that names no agent (or one not the person's to pick by name):
 * the agents this person may run that fit, as agent cards. With a request, "Run" runs it
 * (`run_agent`, single use); without one, "Run" opens a form asking for it
 * (`run_agent_form`). Either way the button carries only an opaque id (ChatActions), so a
 * click cannot be edited into running something else. An agent the request named but did
 * not pick (`passedOver`) is among the cards when the person may run it, its "Run" taking
 * the request without its name.
 */
export async function suggestionBlocks(
  deps: SlackDeps,
  principal: UserPrincipal,
  request: string,
  place: SlackPlace,
  passedOver?: { agentName: string; text: string },
): Promise<{ text: string; blocks?: types.KnownBlock[] }> {
  const agents = await suggestAgents(deps, principal, request, {
    include: passedOver?.agentName,
  });
  if (agents.length === 0) {
    return {
      text: `You can't run any agents yet. Browse the directory and ask for access: ${deps.publicUrl}`,
    };
  }
  const cards = await Promise.all(
    agents.map(async (agent) => ({
      agent,
      options: {
        url: agentPageUrl(deps, agent.name),
        runActionId: request
          ? await deps.actions.create("slack", "run_agent", {
              agentName: agent.name,
              text: agent.name === passedOver?.agentName ? passedOver.text || request : request,
              place,
            })
          : await deps.actions.create("slack", "run_agent_form", { agentName: agent.name, place }),
      },
    })),
  );
  const intro: types.KnownBlock = {
    type: "section",
    text: {
      type: "mrkdwn",
      text: passedOver
        ? `I haven't sent this to \`${passedOver.agentName}\`: naming an agent picks it once you've used it, or when it is your team's or featured. Which agent should take this?`
        : request
          ? "Which agent should take this? These are the ones you can run that fit:"
          : "Here are agents you can run. Pick one, or write `@agents &lt;agent&gt; &lt;request&gt;`:",
    },
  };
  return {
    text: `Agents you can run: ${agents.map((agent) => agent.name).join(", ")}`,
    blocks: [intro, ...agentListBlocks(cards)],
  };
}
