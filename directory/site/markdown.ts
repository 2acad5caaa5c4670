import MarkdownIt from "markdown-it";
import type Token from "markdown-it/lib/token.mjs";
import { withoutBidiControls } from "../../core/index.js";
import { Html } from "./html.js";

/**
 * Agent answers and descriptions, written in Markdown, rendered for the site. What the
 * author wrote is untrusted (a model, or a manifest's owner), so:
 * - raw HTML is never passed through (`html: false` shows it as text);
 * - links go only to http, https and mailto addresses, and each shows its real address
 *   beside its label, so "[your bank](https://evil.example)" cannot pass as the bank;
 * - images are not loaded (the CSP allows only this site's images, and a remote image
 *   would tell its host who read the answer): they become links that show their address;
 * - bidi control characters are removed, so an override cannot make text read backwards.
 */

const LINK_SCHEMES = /^(https?:\/\/|mailto:)/i;
const LINK_REL = "nofollow noopener noreferrer";
/** Longer text is cut here: rendering time stays bounded whatever an agent sends. */
export const MARKDOWN_MAX_CHARS = 200_000;

const md = new MarkdownIt({ html: false, linkify: true, typographer: false });

// markdown-it's own check refuses javascript:, vbscript:, file: and most data:; ours keeps
// only the schemes a reader can follow safely (relative links are refused too: an answer
// has no base the reader can see).
const markdownItValidate = md.validateLink.bind(md);
md.validateLink = (url: string) => markdownItValidate(url) && LINK_SCHEMES.test(url.trim());

/** The text a link shows, to compare with its address. */
function labelOf(tokens: Token[], from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) {
    const token = tokens[i] as Token;
    if (token.type === "text" || token.type === "code_inline") text += token.content;
  }
  return text;
}

function textToken(state: { Token: typeof Token }, content: string): Token {
  const token = new state.Token("text", "", 0);
  token.content = content;
  return token;
}

// After inline parsing: every link gets rel, and its address shown after it when its label
// says something else (a bare, linkified address already shows itself).
md.core.ruler.push("links_show_address", (state) => {
  for (const block of state.tokens) {
    const children = block.children;
    if (!children) continue;
    const out: Token[] = [];
    for (let i = 0; i < children.length; i++) {
      const token = children[i] as Token;
      if (token.type === "image") {
        out.push(...imageAsLink(state, token));
        continue;
      }
      out.push(token);
      if (token.type !== "link_open") continue;
      token.attrSet("rel", LINK_REL);
      const href = token.attrGet("href") ?? "";
      let close = i + 1;
      while (close < children.length && children[close]?.type !== "link_close") close++;
      const label = labelOf(children, i + 1, close).trim();
      out.push(...children.slice(i + 1, close + 1));
      i = close;
      const shown = href.replace(/^mailto:/i, "");
      if (label !== href && label !== shown && decoded(shown) !== label) {
        out.push(textToken(state, ` (${shown})`));
      }
    }
    block.children = out;
  }
});

function decoded(url: string): string {
  try {
    return decodeURI(url);
  } catch {
    return url;
  }
}

/** An image, not loaded: a link to it with its description and address. */
function imageAsLink(state: { Token: typeof Token }, image: Token): Token[] {
  const src = image.attrGet("src") ?? "";
  const alt = image.children?.length ? labelOf(image.children, 0, image.children.length) : "";
  const label = `Image${alt ? `: ${alt}` : ""}`;
  const open = new state.Token("link_open", "a", 1);
  open.attrs = [
    ["href", src],
    ["rel", LINK_REL],
  ];
  const close = new state.Token("link_close", "a", -1);
  return [open, textToken(state, label), close, textToken(state, ` (${src})`)];
}

/** Markdown as safe HTML for the site (see above for what "safe" means here). */
export function renderMarkdown(source: string): Html {
  const text = withoutBidiControls(source.slice(0, MARKDOWN_MAX_CHARS));
  const cut =
    source.length > MARKDOWN_MAX_CHARS ? "\n\n… (cut: the text is too long to show here)" : "";
  return new Html(md.render(text + cut));
}
