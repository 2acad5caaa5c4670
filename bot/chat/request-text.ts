import type { NamedAgent } from "./named-agent.js";
import { SLUG_PATTERN } from "./slug.js";

/** What a person wrote to the bot, with the agent they named (if the first word names one). */
export interface ChatRequest {
  /** The first word, when it names one of the person's agents; undefined otherwise. */
  agentName: string | undefined;
  /** The request: the text without the mention and, when it picked one, the agent's name. */
  text: string;
  /**
   * The first word names an agent the person may see but has not made theirs: it is not
   * picked, the person is asked. `text` is then the request without that word.
   */
  passedOver?: { agentName: string; text: string } | undefined;
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
 * request. The first word picks an agent only when `kindOf` says it is one of the person's
 * (see named-agent.ts): a word that is merely some agent's name picks nothing.
 */
export async function parseRequest(
  text: string,
  kindOf: (name: string) => Promise<NamedAgent>,
): Promise<ChatRequest> {
  const plain = plainText(text);
  const [first = "", ...rest] = plain.split(" ");
  const candidate = first.toLowerCase().replace(/[:,]$/, "");
  if (SLUG_PATTERN.test(candidate)) {
    const kind = await kindOf(candidate);
    const after = rest.join(" ").trim();
    if (kind === "theirs") return { agentName: candidate, text: after };
    if (kind === "not_theirs") {
      return {
        agentName: undefined,
        text: plain,
        passedOver: { agentName: candidate, text: after },
      };
    }
  }
  return { agentName: undefined, text: plain };
}
