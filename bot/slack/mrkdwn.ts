/**
 * Text from agents and people, made safe for Slack: the one place Slack escaping lives.
 *
 * Slack reads `&`, `<` and `>` as markup in every text it renders: `<!channel>` pings a
 * channel, `<@U123>` a person, `<https://evil.example|your bank>` is a link whose label
 * hides its address. Its docs ask for those three escaped as `&amp;`, `&lt;` and `&gt;`,
 * which leaves none of that syntax. Agents write Markdown, where `[your bank](https://…)`
 * hides an address the same way, so links are rewritten to show it: `your bank
 * (https://…)`. Only http(s) addresses may become links; any other scheme (`javascript:`,
 * `mailto:`, …) is shown as code, which Slack does not link.
 *
 * The same escaping serves mrkdwn (sections, message text) and the Markdown that Slack's
 * `markdown` block and streaming calls take: entities are text in both, so nothing an agent
 * writes can turn into Slack's own syntax on the way through either.
 */

import { withoutBidiControls } from "../../core/index.js";

/**
 * Slack's three control characters escaped, for any text going into mrkdwn; bidi control
 * characters removed (core's withoutBidiControls), so a right-to-left override in a title or
 * name cannot make it read backwards.
 */
export function escapeMrkdwn(text: string): string {
  return withoutBidiControls(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** A piece of a line: prose (Markdown brackets escaped too) or code (shown as it is). */
type Piece = { code: boolean; text: string };

/** `[label](url "title")` and `![alt](url)`: Markdown links and images. */
const MARKDOWN_LINK =
  /!?\[([^[\]]*)\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
/** `<https://…|label>` and `<https://…>`: Slack's own links, written by an agent. */
const SLACK_LINK = /<([a-z][a-z0-9+.-]*:[^|<>\s]+)(?:\|([^<>]*))?>/gi;
/** A run of backticks opening and closing an inline code span. */
const CODE_SPAN = /(`+)(.+?)\1(?!`)/g;
/** A fenced code block's opening or closing line. */
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** A link shown with its address: `label (url)`, or the address alone. */
function shownLink(label: string, url: string): Piece[] {
  const trimmed = label.trim();
  const address: Piece = /^https?:\/\//i.test(url)
    ? { code: false, text: url }
    : { code: true, text: `\`${url.replace(/`/g, "")}\`` };
  if (!trimmed || trimmed === url) return [address];
  return [{ code: false, text: `${trimmed} (` }, address, { code: false, text: ")" }];
}

/** Prose with its links spelled out. */
function unmaskLinks(text: string): Piece[] {
  const pieces: Piece[] = [];
  const pattern = new RegExp(`${MARKDOWN_LINK.source}|${SLACK_LINK.source}`, "gi");
  let at = 0;
  for (const match of text.matchAll(pattern)) {
    pieces.push({ code: false, text: text.slice(at, match.index) });
    const [, mdLabel, mdUrl, slackUrl, slackLabel] = match;
    pieces.push(
      ...(slackUrl !== undefined
        ? shownLink(slackLabel ?? "", slackUrl)
        : shownLink(mdLabel ?? "", mdUrl ?? "")),
    );
    at = (match.index ?? 0) + match[0].length;
  }
  pieces.push({ code: false, text: text.slice(at) });
  return pieces;
}

function renderPiece(piece: Piece): string {
  const escaped = escapeMrkdwn(piece.text);
  // Escaped brackets cannot form a reference link (`[label][ref]`, `[ref]: url`).
  return piece.code ? escaped : escaped.replace(/[[\]]/g, "\\$&");
}

/** One line outside a fenced block: code spans kept, the prose between them made safe. */
function renderLine(line: string): string {
  const pieces: Piece[] = [];
  let at = 0;
  for (const match of line.matchAll(CODE_SPAN)) {
    pieces.push(...unmaskLinks(line.slice(at, match.index)));
    pieces.push({ code: true, text: match[0] });
    at = (match.index ?? 0) + match[0].length;
  }
  pieces.push(...unmaskLinks(line.slice(at)));
  return pieces.map(renderPiece).join("");
}

/** Renders whole lines, carrying whether a fenced code block is open. */
function renderLines(lines: readonly string[], state: { fence: string | undefined }): string[] {
  return lines.map((line) => {
    const fence = FENCE.exec(line)?.[1];
    if (
      fence &&
      (!state.fence || (fence[0] === state.fence[0] && fence.length >= state.fence.length))
    ) {
      state.fence = state.fence ? undefined : fence;
      return escapeMrkdwn(line);
    }
    return state.fence ? escapeMrkdwn(line) : renderLine(line);
  });
}

/**
 * An agent's answer (Markdown) for Slack: for the `markdown` block and streaming calls, and
 * as mrkdwn for message text (a notification, an answer in progress). Readable (bold, lists,
 * code stay as they are), every link showing its address, nothing that Slack could read as
 * a mention, a broadcast or a masked link.
 */
export function agentMarkdown(text: string): string {
  return renderLines(text.split("\n"), { fence: undefined }).join("\n");
}

/**
 * For streaming: the rendering of as much of `text` as will render the same however the
 * answer goes on, so what was sent never has to change. Whole lines always; of the line
 * still being written, the part before anything whose meaning depends on what follows (a
 * code span, a link or an image being opened).
 */
export function settledAgentMarkdown(text: string): string {
  const lines = text.split("\n");
  const partial = lines.pop() ?? "";
  const state = { fence: undefined as string | undefined };
  const done = renderLines(lines, state);
  // A backtick, a `[` or an `<` that may open a link (`<` then a letter) may still change
  // how what follows it renders; a `<!` or `<@` cannot.
  const open = state.fence ? -1 : partial.search(/[`[]|<(?=[a-z]|$)|!$/i);
  const settled = open === -1 ? partial : partial.slice(0, open);
  const tail = state.fence ? escapeMrkdwn(settled) : renderLine(settled);
  return [...done, tail].join("\n");
}

/**
 * Rendered text cut to `limit` characters at a line end (or, failing that, anywhere but
 * inside an entity), with a fenced block left open closed again.
 */
export function fitRendered(rendered: string, limit: number): string {
  if (rendered.length <= limit) return rendered;
  let cut = rendered.slice(0, limit);
  const lineEnd = cut.lastIndexOf("\n");
  cut = lineEnd > limit / 2 ? cut.slice(0, lineEnd) : cut.replace(/&[a-z]*$|\\$/, "");
  const fences = cut.split("\n").filter((line) => FENCE.test(line)).length;
  return fences % 2 === 1 ? `${cut}\n\`\`\`` : cut;
}
