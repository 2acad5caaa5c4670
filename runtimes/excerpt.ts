/** How long an agent's own words may be inside an error a person reads. */
export const EXCERPT_LENGTH = 200;

/**
 * Characters that must not reach a reader: C0 and C1 controls, zero-width and direction
 * marks, line and paragraph separators, bidirectional overrides and isolates, the BOM.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * A short excerpt of text an agent or runtime sent (an error body, a failure reason), for
 * a run's error: one line, control characters gone, at most `max` characters. Agents are
 * not trusted to keep their errors short or clean, and a run's error goes to chat threads
 * and pages. Escaping for each surface is the surface's job; this only bounds the shape.
 */
export function excerpt(text: string, max = EXCERPT_LENGTH): string {
  // Cut early: only the start is kept, so a 100 KB body need not be cleaned whole.
  const line = text
    .slice(0, max * 4)
    .replace(UNPRINTABLE, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (line.length <= max && text.length <= max * 4) return line;
  let cut = line.slice(0, max - 1).trimEnd();
  // Never end on half of a surrogate pair.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
