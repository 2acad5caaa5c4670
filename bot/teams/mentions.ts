import { plainFromTeams } from "./teams-text.js";

interface MentionEntity {
  type?: string;
  text?: string;
  mentioned?: { id?: string };
}

/**
 * Reads a message's mention of the bot. Teams puts `<at>Name</at>` in the text and a
 * `mention` entity (with the mentioned account's id) beside it: the bot is mentioned when an
 * entity names its id. Its `<at>…</at>` is stripped from the text (the request is what is
 * left); other people's mentions stay, as their names.
 */
export function readMention(
  activity: { text?: string; entities?: unknown[] },
  botId: string,
): { mentioned: boolean; text: string } {
  let text = activity.text ?? "";
  let mentioned = false;
  for (const entity of (activity.entities ?? []) as MentionEntity[]) {
    if (entity?.type !== "mention" || entity.mentioned?.id !== botId) continue;
    mentioned = true;
    if (entity.text) text = text.split(entity.text).join(" ");
  }
  return { mentioned, text: plainFromTeams(text).replace(/\s+/g, " ").trim() };
}
