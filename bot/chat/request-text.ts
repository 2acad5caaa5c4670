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

/**
 * Splits `ticket-triage why is this ticket stuck?` (a message to the bot, its mention
 * already stripped by the surface) into the agent's name and the
 * request. The first word picks an agent only when `kindOf` says it is one of the person's
 * (see named-agent.ts): a word that is merely some agent's name picks nothing.
 */
export async function parseRequest(
  text: string,
  kindOf: (name: string) => Promise<NamedAgent>,
): Promise<ChatRequest> {
  const plain = text.replace(/\s+/g, " ").trim();
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
