/**
 * PostgreSQL array literals ('{a,"b c",NULL}'), built by hand for the ledger's batch
 * insert. pg serializes a JavaScript array by running every element through its generic
 * `prepareValue`, which cost more on the proxy's event loop than the `unnest` it feeds saved
 * in PostgreSQL; these few rules are all the ledger's columns need.
 *
 * The rules (PostgreSQL manual, "Array Value Input"): elements are separated by commas; an
 * element in double quotes may hold any character, with `"` and `\` each preceded by a
 * backslash; an unquoted NULL (any case) is SQL NULL. So every string is quoted — "NULL",
 * "", spaces, commas and braces then stay text — and only numbers, whose text never holds a
 * special character, go unquoted.
 */

/** `"` and `\`: the only characters a quoted element must escape. */
const SPECIAL = /["\\]/;
const SPECIAL_ALL = /["\\]/g;

/** A string element, quoted; null or undefined is SQL NULL. */
export function textElement(value: string | null | undefined): string {
  if (value == null) return "NULL";
  // Most values (uuids, model names, keys) hold neither character: test before replacing.
  return SPECIAL.test(value) ? `"${value.replace(SPECIAL_ALL, "\\$&")}"` : `"${value}"`;
}

/**
 * An integer element (bigint columns). Anything but an integer is left for PostgreSQL to
 * refuse, as it refused it before arrays: "1.5", "NaN" and "undefined" are not bigints, and
 * null becomes NULL, which the ledger's NOT NULL columns refuse.
 */
export function integerElement(value: number | null | undefined): string {
  return value == null ? "NULL" : String(value);
}

/**
 * A decimal element with a fixed number of places (`numeric(18, 8)` money). `toFixed` rounds
 * the double's exact binary value, as the ledger always has; the shortest decimal form
 * (`String`) can round a tie the other way once PostgreSQL cuts it to the column's scale.
 */
export function fixedDecimalElement(value: number | null | undefined, places: number): string {
  return value == null ? "NULL" : value.toFixed(places);
}

/**
 * A timestamp as a float8 element of seconds since the Unix epoch, for `to_timestamp`: half
 * the work of an ISO 8601 string on both sides. Exact for a Date's milliseconds: the double
 * is off by under a microsecond, and `to_timestamp` rounds to the microsecond.
 */
export function epochSecondsElement(value: Date | null | undefined): string {
  const ms = value == null ? Number.NaN : value.getTime();
  // An invalid Date has no time; NULL lets the NOT NULL column refuse it, as before.
  return Number.isNaN(ms) ? "NULL" : String(ms / 1000);
}

/** The array literal of elements built by the functions above. */
export function arrayLiteral(elements: readonly string[]): string {
  return `{${elements.join(",")}}`;
}
