/**
 * Text a person reads, the same on every surface (site, Slack, Teams, API errors): money,
 * user input echoed back in an error, and names or titles shown to other people.
 */

/**
 * Dollars: cents for ordinary sums; below a cent, as many digits as the amount needs (up to
 * four), so a $0.001 limit reads "$0.001" and not "$0.00"; "<$0.0001" for less than that.
 */
export function formatUsd(amount: number): string {
  if (!Number.isFinite(amount) || amount === 0) return "$0.00";
  const sign = amount < 0 ? "-" : "";
  const size = Math.abs(amount);
  if (size >= 0.01) return `${sign}$${size.toFixed(2)}`;
  if (size < 0.0001) return `${sign === "-" ? ">-" : "<"}$0.0001`;
  return `${sign}$${size.toFixed(4).replace(/0+$/, "")}`;
}

/** The longest piece of a person's input an error message repeats back to them. */
export const ECHO_LIMIT = 100;

/**
 * User input repeated in an error ("No agent called X"): cut to ECHO_LIMIT characters with
 * "…", so a 5,000-character name does not come back whole in every 404 and log line.
 */
export function echoInput(input: string, limit = ECHO_LIMIT): string {
  const chars = Array.from(input);
  return chars.length <= limit ? input : `${chars.slice(0, limit).join("")}…`;
}

/**
 * Bidirectional control characters (embeddings, overrides and isolates, U+202A–U+202E and
 * U+2066–U+2069). A right-to-left override in a title makes the text after it read backwards
 * ("‮txt.exe" shows as "exe.txt"), which can disguise what a name or link says.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/** The text without bidi control characters: what a title or name shows on every surface. */
export function withoutBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, "");
}

export function hasBidiControls(text: string): boolean {
  return /[\u202A-\u202E\u2066-\u2069]/.test(text);
}
