import type { Json } from "../translate/json.js";

const WHITESPACE_OR_COLON = /^[\s:]*$/;

/**
 * The `"usage": {…}` object of a JSON answer, parsed on its own: an answer passed through
 * is never parsed whole just to count it (a long completion would cost a full parse and
 * its garbage). Providers put usage last, so the last `"usage"` key is taken; an escaped
 * quote inside a string cannot match. Returns undefined when there is none.
 */
export function scanUsage(text: string): Json | undefined {
  const key = text.lastIndexOf('"usage"');
  if (key === -1) return undefined;
  const start = text.indexOf("{", key + 7);
  if (start === -1 || !WHITESPACE_OR_COLON.test(text.slice(key + 7, start))) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i += 1;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */) depth += 1;
    else if (c === 125 /* } */) {
      depth -= 1;
      if (depth === 0) {
        try {
          return JSON.parse(text.slice(start, i + 1));
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
