import type { types } from "@slack/bolt";
import type { Agent } from "../../directory/index.js";
import { chatButton, linkButton } from "./chat-buttons.js";
import { escapeMrkdwn } from "./mrkdwn.js";

type KnownBlock = types.KnownBlock;

/** Slack caps a section's text at 3,000 characters; cards stay short to scan a list. */
const DESCRIPTION_CHARS = 150;
const EXAMPLES_SHOWN = 5;

export interface AgentCardOptions {
  /** The agent's page on the site: the title links there, and access is requested there. */
  url: string;
  /** The ChatActions id of this card's "Run" button; unset when the person may not run it. */
  runActionId?: string | undefined;
  /** A full card (one agent asked for by name): the whole description and skills' examples. */
  detailed?: boolean;
}

function shorten(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** `team:platform` reads as "team platform"; a person owner as their address. */
function ownerText(owner: string): string {
  if (owner.startsWith("team:")) return `team ${owner.slice("team:".length)}`;
  if (owner.startsWith("user:")) return owner.slice("user:".length);
  return owner;
}

/**
 * One agent as Block Kit: title (linked to its page) and name, description, owner and
 * runtime, and a "Run" button when the person may run it, else a link to ask for access.
 * Used by the `/agents` command, App Home and the suggestions a mention answers with, so an
 * agent looks the same wherever Slack shows it.
 */
export function agentCardBlocks(agent: Agent, options: AgentCardOptions): KnownBlock[] {
  const description = escapeMrkdwn(
    options.detailed
      ? shorten(agent.description, 2_500)
      : shorten(agent.description, DESCRIPTION_CHARS),
  );
  const status = agent.state === "enabled" ? "" : `  ·  _${agent.state}_`;
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*<${options.url}|${escapeMrkdwn(agent.title)}>* \`${agent.name}\`\n${description || " "}`,
      },
      accessory: options.runActionId
        ? chatButton("Run", options.runActionId, { primary: true })
        : linkButton(agent.state === "enabled" ? "Request access" : "View", options.url),
    },
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `Owner: ${escapeMrkdwn(ownerText(agent.owner))}  ·  Runtime: ${escapeMrkdwn(agent.runtimeType)}${status}`,
        },
      ],
    },
  ];
  if (options.detailed) blocks.push(...exampleBlocks(agent));
  return blocks;
}

/** The skills' example prompts: what to ask this agent, in its owners' words. */
function exampleBlocks(agent: Agent): KnownBlock[] {
  const examples = agent.manifest.spec.skills.flatMap((skill) =>
    skill.examples.map((example) => ({ skill: skill.name, example })),
  );
  if (examples.length === 0) return [];
  const lines = examples
    .slice(0, EXAMPLES_SHOWN)
    .map(
      ({ skill, example }) =>
        `• _${escapeMrkdwn(shorten(example, 200))}_  (${escapeMrkdwn(skill)})`,
    );
  return [
    {
      type: "section",
      text: { type: "mrkdwn", text: `*Try asking:*\n${lines.join("\n")}` },
    },
  ];
}

/** A list of agents as cards, with a divider between them. */
export function agentListBlocks(
  cards: { agent: Agent; options: AgentCardOptions }[],
): KnownBlock[] {
  return cards.flatMap(({ agent, options }, index) => [
    ...(index > 0 ? [{ type: "divider" } as KnownBlock] : []),
    ...agentCardBlocks(agent, options),
  ]);
}
