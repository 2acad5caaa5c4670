/**
 * Column types parsed the same way on PostgreSQL (pg) and PGlite, so code never sees a
 * string on one and a number on the other. Type ids are PostgreSQL's own (pg_type.oid).
 */
export const INT8_OID = 20;
export const NUMERIC_OID = 1700;

/** bigint counts and serial ids fit in a double for any table this project keeps. */
export function parseInt8(value: string): number {
  return Number(value);
}

/** Money stays a decimal string; convert with care where it is summed. */
export function parseNumeric(value: string): string {
  return value;
}

export const sharedParsers: Record<number, (value: string) => unknown> = {
  [INT8_OID]: parseInt8,
  [NUMERIC_OID]: parseNumeric,
};
