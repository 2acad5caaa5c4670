import type { App, RespondFn, types } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import type { Agent } from "../../directory/index.js";
import { agentCards, SLUG_PATTERN, whyNotRun } from "../chat/index.js";
import { type AgentCardOptions, agentCardBlocks, agentListBlocks } from "./agent-card-blocks.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import { postAndRun } from "./posted-runs.js";
import type { SlackDeps } from "./slack-deps.js";
import { buttonsMessage } from "./slack-surface.js";

export const AGENTS_COMMAND = "/agents";
const SEARCH_LIMIT = 10;

/** What `/agents` and `/agents help` answer. */
export function helpText(publicUrl: string): string {
  return [
    "*Find and run Switchboard agents*",
    "• `/agents search <words>`: agents you can see that match",
    "• `/agents <agent>`: an agent's card, with what to ask it",
    "• `/agents run <agent> <request>`: post your request here and run it in its thread",
    "• `@agents <agent> <request>` in a channel or thread does the same; reply in the thread to keep talking",
    `The whole directory: ${publicUrl}/agents`,
  ].join("\n");
}

/** `/agents …` split into what was asked. */
type Command =
  | { kind: "help" }
  | { kind: "search"; words: string }
  | { kind: "card"; agentName: string }
  | { kind: "run"; agentName: string; text: string };

export function parseCommand(text: string): Command {
  const trimmed = text.trim();
  const [first = "", ...rest] = trimmed.split(/\s+/);
  const word = first.toLowerCase();
  const after = trimmed.slice(first.length).trim();
  if (!word || word === "help") return { kind: "help" };
  if (word === "search" || word === "find") return { kind: "search", words: after };
  if (word === "run") {
    const [name = ""] = after.split(/\s+/);
    return {
      kind: "run",
      agentName: name.toLowerCase(),
      text: after.slice(name.length).trim(),
    };
  }
  if (rest.length === 0 && SLUG_PATTERN.test(word)) return { kind: "card", agentName: word };
  // Several words that do not start with a command: most likely a search.
  return { kind: "search", words: trimmed };
}

/**
 * `/agents`: search the directory, show an agent's card, run an agent. Slack wants an answer
 * within 3 s, so the command is acknowledged first and answered afterwards through its
 * response_url (only the person sees it); a run is the exception, posted for all to see.
 */
export function registerSlashCommand(app: App, deps: SlackDeps): void {
  app.command(AGENTS_COMMAND, async ({ ack, command, client, respond }) => {
    await ack();
    // Plain words (they may quote the person's own text), escaped for mrkdwn here.
    const tell = (text: string, blocks?: types.KnownBlock[]) =>
      respond({
        response_type: "ephemeral",
        text: escapeMrkdwn(text),
        ...(blocks ? { blocks } : {}),
      });
    const parsed = parseCommand(command.text ?? "");
    if (parsed.kind === "help") return void (await tell(helpText(deps.publicUrl)));

    const person = await deps.identities.person(client, command.team_id, command.user_id);
    if ("refusal" in person) return void (await tell(person.refusal));
    const principal = person.principal;
    const context = { deps, principal, channel: command.channel_id, tell };

    switch (parsed.kind) {
      case "search":
        return search(context, parsed.words);
      case "card":
        return card(context, parsed.agentName);
      case "run": {
        if (!parsed.agentName) return void (await tell(helpText(deps.publicUrl)));
        const check = await whyNotRun(deps, principal, parsed.agentName, parsed.text);
        if ("refusal" in check) {
          if (!check.requestAccess) return void (await tell(check.refusal));
          // Only they see it: "Request access" asks the agent's owners (the chat core's kind).
          const { words, offers } = check.requestAccess;
          const buttons = await Promise.all(
            offers.map(async (offer) => ({
              ...offer,
              actionId: await deps.actions.create("slack", offer.kind, offer.payload),
            })),
          );
          return void (await respond({
            response_type: "ephemeral",
            ...buttonsMessage(words, buttons),
          }));
        }
        if (!parsed.text) {
          return void (await tell(
            `What should *${parsed.agentName}* do? Write it after the name, e.g. \`/agents run ${parsed.agentName} summarise this channel\`.`,
          ));
        }
        const refused = await postAndRun(deps, client, {
          principal,
          slackUser: command.user_id,
          team: command.team_id,
          channel: command.channel_id,
          agentName: parsed.agentName,
          text: parsed.text,
          deliveryKey: `command:${command.trigger_id}`,
        });
        if (refused) await tell(refused.refusal);
      }
    }
  });
}

interface CommandContext {
  deps: SlackDeps;
  principal: UserPrincipal;
  channel: string;
  tell: (text: string, blocks?: types.KnownBlock[]) => ReturnType<RespondFn>;
}

async function search(ctx: CommandContext, words: string): Promise<void> {
  const page = await ctx.deps.directory.list(ctx.principal, {
    q: words || undefined,
    limit: SEARCH_LIMIT,
  });
  if (page.items.length === 0) {
    await ctx.tell(
      words
        ? `No agents you can see match “${words}”. Browse the directory: ${ctx.deps.publicUrl}/agents`
        : `You can't see any agents yet. Browse the directory: ${ctx.deps.publicUrl}/agents`,
    );
    return;
  }
  const cards = await cardsOf(ctx, page.items, false);
  const more = page.nextCursor
    ? [
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              text: `More on the site: <${ctx.deps.publicUrl}/agents?q=${encodeURIComponent(words)}|all results>`,
            },
          ],
        } as types.KnownBlock,
      ]
    : [];
  const heading = words ? `Agents matching “${words}”:` : "Agents you can see:";
  await ctx.tell(`${heading} ${page.items.map((agent) => agent.name).join(", ")}`, [
    { type: "section", text: { type: "mrkdwn", text: `*${escapeMrkdwn(heading)}*` } },
    ...agentListBlocks(cards),
    ...more,
  ]);
}

async function card(ctx: CommandContext, agentName: string): Promise<void> {
  let agent: Agent;
  try {
    agent = await ctx.deps.directory.get(ctx.principal, agentName);
  } catch {
    await ctx.tell(
      `I couldn't find an agent called \`${agentName}\` that you can see. Try \`/agents search ${agentName}\`, or browse ${ctx.deps.publicUrl}/agents`,
    );
    return;
  }
  const [shown] = await cardsOf(ctx, [agent], true);
  await ctx.tell(`${agent.title} (${agent.name})`, shown && agentCardBlocks(agent, shown.options));
}

/** Cards with a "Run" button (a ChatActions id) where the person may run the agent. */
async function cardsOf(
  ctx: CommandContext,
  agents: readonly Agent[],
  detailed: boolean,
): Promise<{ agent: Agent; options: AgentCardOptions }[]> {
  const cards = await agentCards(ctx.deps, "slack", ctx.principal, agents);
  return cards.map(({ agent, url, runActionId }) => ({
    agent,
    options: { url, runActionId, detailed },
  }));
}
