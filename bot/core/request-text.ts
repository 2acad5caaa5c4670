import { SLUG_PATTERN } from "./slug.js";

/** What a person wrote to the bot, with the agent they named (if the first word names one). */
export interface ChatRequest {
  /** The first word, when it is an agent's name; undefined when the text names none. */
  agentName: string | undefined;
  /** The request for the agent: the text without the mention and the agent's name. */
  text: string;
}

/** Slack's `<@U123ABC>` user mentions (with an optional `|name`). */
const USER_MENTION = /<@[A-Z0-9]+(?:\|[^>]*)?>/g;

/** The text without mentions of the bot and with Slack's escapes undone. */
export function plainText(text: string): string {
  return text
    .replace(USER_MENTION, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * Splits `@agents ticket-triage why is this ticket stuck?` into the agent's name and the
 * request. The first word is the agent's name only when `isAgent` says an agent by that
 * name exists (people also start requests with ordinary words).
 */
export async function parseRequest(
  text: string,
  isAgent: (name: string) => Promise<boolean>,
): Promise<ChatRequest> {
  const plain = plainText(text);
  const [first = "", ...rest] = plain.split(" ");
  const candidate = first.toLowerCase().replace(/[:,]$/, "");
  if (SLUG_PATTERN.test(candidate) && (await isAgent(candidate))) {
    return { agentName: candidate, text: rest.join(" ").trim() };
  }
  return { agentName: undefined, text: plain };
}
