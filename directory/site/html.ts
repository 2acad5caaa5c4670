import { withoutBidiControls } from "../../core/index.js";

/**
 * A tiny tagged template for server-rendered pages: every interpolated value is escaped
 * unless it is already `Html` (made by `html` itself or, for trusted markup, `raw`). Arrays
 * are joined, and `null`, `undefined` and `false` render nothing, so conditionals read as
 * `${cond && html`...`}`.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text made safe for a page: markup escaped, and bidi control characters removed (core's
 * withoutBidiControls), so a right-to-left override in a title or name cannot make it, or
 * what follows it, read backwards. Arabic or Hebrew text still shows right to left: that
 * comes from its letters, not from these controls.
 */
export function escapeHtml(text: string): string {
  return withoutBidiControls(text).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false || value === true) return "";
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

/** Markup we wrote ourselves (never user input). */
export function raw(text: string): Html {
  return new Html(text);
}

/** A URL from a manifest, kept only if it is http(s) or mailto (no `javascript:` links). */
export function safeHref(url: string): string {
  return /^(https?:|mailto:)/i.test(url.trim()) ? url : "#";
}
