/** Slack's `<@U123ABC>` user mentions (with an optional `|name`). */
const USER_MENTION = /<@[A-Z0-9]+(?:\|[^>]*)?>/g;

/**
 * A message's text as the chat flow reads it: without mentions (of the bot, of anyone) and
 * with Slack's escapes undone.
 */
export function plainText(text: string): string {
  return text
    .replace(USER_MENTION, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}
