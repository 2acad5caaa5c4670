import type { Json } from "../translate/json.js";

/** As bytes: searching a Buffer for a string converts the string on every search. */
const USAGE_KEY = Buffer.from('"usage"');

/** Space, tab, newline, carriage return: JSON's whitespace, as bytes. */
const isSpace = (byte: number) => byte === 32 || byte === 9 || byte === 10 || byte === 13;

/**
 * The `"usage": {…}` object of a JSON answer, parsed on its own: an answer passed through
 * is never parsed whole just to count it (a long completion would cost a full parse and
 * its garbage), nor even decoded: the search runs over the bytes, and only the usage
 * object becomes a string. UTF-8 is safe to scan byte by byte here: every byte of a
 * multi-byte character is ≥ 0x80, so none can pass for a quote, backslash or brace.
 * Providers put usage last, so the last `"usage"` key is taken; an escaped quote inside a
 * string cannot match. Returns undefined when there is none.
 */
export function scanUsage(answer: Buffer | string): Json | undefined {
  const bytes = typeof answer === "string" ? Buffer.from(answer) : answer;
  const key = bytes.lastIndexOf(USAGE_KEY);
  if (key === -1) return undefined;
  let start = key + USAGE_KEY.length;
  while (start < bytes.length && (isSpace(bytes[start] as number) || bytes[start] === 58)) {
    start += 1; // whitespace and the colon
  }
  if (bytes[start] !== 123 /* { */) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i += 1) {
    const c = bytes[i] as number;
    if (inString) {
      if (c === 92 /* \ */) i += 1;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */) depth += 1;
    else if (c === 125 /* } */) {
      depth -= 1;
      if (depth === 0) {
        try {
          return JSON.parse(bytes.toString("utf8", start, i + 1));
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
