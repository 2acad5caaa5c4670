import type { Agent } from "../../directory/index.js";
import type { ChatButton, ChatQuote } from "../chat/index.js";
import { escapeCardText } from "./teams-text.js";

/** An Adaptive Card (https://adaptivecards.io/schemas/adaptive-card.json), as JSON. */
export type AdaptiveCard = Record<string, unknown> & { type: "AdaptiveCard" };

export const ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive";

/** What a card's Action.Submit sends back: only the id of a stored chat action. */
export interface SubmitData {
  switchboardAction: string;
}

/**
 * The id of a card's one text field (a button's prompt, e.g. Deny's reason): Teams sends
 * every field's value with any Action.Submit, next to the button's data.
 */
export const CARD_INPUT_ID = "switchboardInput";

/** People's words on a card, each as a TextBlock: its Markdown subset escaped. */
export function quoteBlocks(quotes: readonly ChatQuote[] = []): unknown[] {
  return quotes.map((quote) => ({
    type: "TextBlock",
    text: `**${quote.label}:** ${escapeCardText(quote.text)}`,
    wrap: true,
    spacing: "Small",
  }));
}

function card(body: unknown[], actions: unknown[] = []): AdaptiveCard {
  return {
    type: "AdaptiveCard",
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    version: "1.5",
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}

/** A card's text block, everything in it escaped: names and descriptions are people's words. */
function text(words: string, more: Record<string, unknown> = {}) {
  return { type: "TextBlock", text: escapeCardText(words), wrap: true, ...more };
}

/** What one agent is: its name, what it does, its owner, and whether this person may run it. */
export function agentCardBody(agent: Agent, mayRun: boolean): unknown[] {
  return [
    text(agent.title || agent.name, { weight: "Bolder", size: "Medium" }),
    text(agent.name, { isSubtle: true, spacing: "None" }),
    text(agent.description || "No description yet."),
    {
      type: "FactSet",
      facts: [
        { title: "Owner", value: escapeCardText(agent.owner) },
        {
          title: "You",
          value: mayRun ? "may run it" : "may not run it yet: ask for access on its page",
        },
      ],
    },
  ];
}

/** An agent's card, with a link to its page on the site. */
export function agentCard(agent: Agent, mayRun: boolean, url: string): AdaptiveCard {
  return card(agentCardBody(agent, mayRun), [
    { type: "Action.OpenUrl", title: "Open in Switchboard", url },
  ]);
}

/** The agents a request could go to, each with a Run button carrying only its action id. */
export function suggestionsCard(
  intro: string,
  agents: readonly { agent: Agent; url: string; actionId: string }[],
): AdaptiveCard {
  const body: unknown[] = [text(intro)];
  for (const { agent, url, actionId } of agents) {
    body.push({
      type: "Container",
      separator: true,
      items: [
        text(agent.title || agent.name, { weight: "Bolder" }),
        text(agent.description || agent.name, { isSubtle: true, spacing: "None" }),
        {
          type: "ActionSet",
          actions: [
            {
              type: "Action.Submit",
              title: `Run ${agent.name}`,
              data: { switchboardAction: actionId } satisfies SubmitData,
            },
            { type: "Action.OpenUrl", title: "Details", url },
          ],
        },
      ],
    });
  }
  return card(body);
}

/**
 * Words with buttons under them (e.g. approvals), each carrying only its action id; people's
 * words (quotes) as written; and, when a button takes words (its prompt), a field for them.
 */
export function buttonsCard(
  words: string,
  buttons: readonly ChatButton[],
  quotes: readonly ChatQuote[] = [],
): AdaptiveCard {
  const prompt = buttons.find((button) => button.prompt)?.prompt;
  return card(
    [
      { type: "TextBlock", text: escapeCardText(words).replace(/\\\*\\\*/g, "**"), wrap: true },
      ...quoteBlocks(quotes),
      ...(prompt
        ? [
            {
              type: "Input.Text",
              id: CARD_INPUT_ID,
              label: prompt.label,
              isMultiline: true,
              maxLength: prompt.maxLength,
              ...(prompt.value ? { value: prompt.value.slice(0, prompt.maxLength) } : {}),
            },
          ]
        : []),
    ],
    buttons.map((button) => ({
      type: "Action.Submit",
      title: button.label,
      ...(button.style === "danger" ? { style: "destructive" } : {}),
      ...(button.style === "primary" ? { style: "positive" } : {}),
      data: { switchboardAction: button.actionId } satisfies SubmitData,
    })),
  );
}

/** The message extension's task module: pick an agent and add a request. */
export function askAgentCard(agents: readonly Agent[], messageText: string): AdaptiveCard {
  return card(
    [
      text("Ask an agent about this message", { weight: "Bolder", size: "Medium" }),
      text(messageText.length > 300 ? `${messageText.slice(0, 300)}…` : messageText, {
        isSubtle: true,
      }),
      {
        type: "Input.ChoiceSet",
        id: "agent",
        label: "Agent",
        isRequired: true,
        errorMessage: "Pick an agent",
        choices: agents.map((agent) => ({
          title: `${agent.title || agent.name} (${agent.name})`,
          value: agent.name,
        })),
      },
      {
        type: "Input.Text",
        id: "request",
        label: "What should it do?",
        isMultiline: true,
        placeholder: "e.g. summarise this and list the open questions",
      },
    ],
    [{ type: "Action.Submit", title: "Ask" }],
  );
}

/** A card attachment of a message activity. */
export function cardAttachment(content: AdaptiveCard) {
  return { contentType: ADAPTIVE_CARD, content };
}
