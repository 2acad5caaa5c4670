/**
 * Text for Teams. Teams renders a Markdown subset in messages (bold, italic, lists, links,
 * code) and HTML; Adaptive Card TextBlocks render a smaller Markdown subset. What people and
 * agents wrote must show as written: never as Teams' own markup (an agent's `<at>` would be a
 * mention, its `<a>` a link) and never as raw symbols.
 */

import { withoutBidiControls } from "../../core/index.js";

const HTML_SPECIALS: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** HTML's specials as entities: Teams shows them as the characters, never as markup. */
export function escapeHtml(text: string): string {
  // Bidi controls go too: a right-to-left override would show "exe.txt" as "txt.exe".
  return withoutBidiControls(text).replace(/[&<>]/g, (char) => HTML_SPECIALS[char] as string);
}

/** Someone's words shown as they wrote them: Markdown's and HTML's specials escaped. */
export function escapeTeamsText(text: string): string {
  return escapeHtml(text).replace(/([\\`*_[\]()#~|!])/g, "\\$1");
}

/**
 * Someone's words in an Adaptive Card's TextBlock: its Markdown subset escaped. Cards render
 * no HTML (a `<b>` shows as written) and mention only whom the card's own entities name.
 */
export function escapeCardText(text: string): string {
  return withoutBidiControls(text).replace(/([\\`*_[\]()#~|!])/g, "\\$1");
}

/**
 * An agent's Markdown answer as a Teams message shows it: its Markdown kept (Teams renders
 * it), its HTML made inert, so the answer reads as formatted text and nothing in it mentions
 * people, links under other words or breaks out of the message.
 */
export function teamsMarkdown(markdown: string): string {
  return escapeHtml(markdown);
}

/**
 * A message activity's text as the person wrote it: Teams sends HTML (`<p>`, `<at>…</at>`,
 * entities) when the message was written in its editor; tags are dropped, entities decoded.
 */
export function plainFromTeams(text: string): string {
  return text
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p>\s*<p>/gi, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .trim();
}

/**
 * Switchboard's words (Markdown) with people's words under them, as a Teams message: each
 * quote escaped (escapeTeamsText), so a reason reads as typed and links or mentions nobody.
 */
export function teamsWords(
  words: string,
  quotes: readonly { label: string; text: string }[] = [],
): string {
  return [
    teamsMarkdown(words),
    ...quotes.map((quote) => `**${quote.label}:** ${escapeTeamsText(quote.text)}`),
  ].join("\n\n");
}
