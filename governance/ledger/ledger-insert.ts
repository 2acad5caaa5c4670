import type { Knex } from "knex";
import type { LedgerEntry } from "./ledger-entry.js";
import {
  arrayLiteral,
  epochSecondsElement,
  fixedDecimalElement,
  integerElement,
  textElement,
} from "./pg-array-literal.js";

/**
 * The ledger's batch insert: one statement per batch, each column sent as one array
 * parameter and zipped back into rows by `unnest`, the metadata as one JSON array.
 *
 * Why this shape: the proxy writes a row per model call, and on the 2-core bench machine
 * the ledger's cost showed in the proxy's latency. A multi-row VALUES list takes 17
 * parameters a row; one JSON parameter unpacked by `jsonb_to_recordset` cost PostgreSQL
 * about 35 µs of backend CPU a row and the proxy 5–15 µs a row to serialize. Typed column
 * arrays are parsed by each type's own input function with no JSON around them, and their
 * literals are cheap to build here by hand (see pg-array-literal.ts; pg's own array
 * serialization costs more than it saves). Measured per element in PostgreSQL 15:
 * - timestamps: a float8 of epoch seconds read by `to_timestamp` takes about half the CPU
 *   of an ISO 8601 string (and formatting it in JavaScript, half of `toISOString`'s);
 * - metadata: one JSON array split by `json_array_elements` and cast to jsonb took about
 *   1.4 µs an object, `jsonb_array_elements` 1.9 µs, a `jsonb[]` array literal over 10 µs.
 */

interface Column {
  name: string;
  /** PostgreSQL type of the elements of the column's array parameter. */
  type: string;
  /** The element for one entry, in array literal syntax. */
  element(entry: LedgerEntry): string;
  /** The value inserted, when the element needs converting (SQL over the column's name). */
  insert?: string;
}

const COLUMNS: readonly Column[] = [
  {
    name: "occurred_at",
    type: "float8",
    element: (e) => epochSecondsElement(e.occurredAt),
    insert: "to_timestamp(occurred_at)",
  },
  { name: "source", type: "text", element: (e) => textElement(e.source) },
  { name: "agent_id", type: "uuid", element: (e) => textElement(e.agentId) },
  { name: "runtime", type: "text", element: (e) => textElement(e.runtime) },
  { name: "model", type: "text", element: (e) => textElement(e.model) },
  { name: "user_id", type: "uuid", element: (e) => textElement(e.userId) },
  { name: "team_id", type: "uuid", element: (e) => textElement(e.teamId) },
  { name: "run_id", type: "uuid", element: (e) => textElement(e.runId) },
  { name: "session_id", type: "uuid", element: (e) => textElement(e.sessionId) },
  { name: "api_key_id", type: "uuid", element: (e) => textElement(e.apiKeyId) },
  { name: "input_tokens", type: "bigint", element: (e) => integerElement(e.inputTokens) },
  { name: "output_tokens", type: "bigint", element: (e) => integerElement(e.outputTokens) },
  { name: "cache_read_tokens", type: "bigint", element: (e) => integerElement(e.cacheReadTokens) },
  {
    name: "cache_write_tokens",
    type: "bigint",
    element: (e) => integerElement(e.cacheWriteTokens),
  },
  // numeric(18, 8) in the table: eight places, rounded as the ledger always has.
  { name: "cost_usd", type: "numeric", element: (e) => fixedDecimalElement(e.costUsd, 8) },
  { name: "dedupe_key", type: "text", element: (e) => textElement(e.dedupeKey) },
];

const ARRAY_NAMES = COLUMNS.map((c) => c.name).join(", ");
const ARRAY_VALUES = COLUMNS.map((c) => c.insert ?? c.name).join(", ");
const ARRAY_FUNCTIONS = COLUMNS.map((c) => `unnest(?::${c.type}[])`).join(", ");

/**
 * `rows from` zips its functions' rows by position, as a multi-argument `unnest` does (which
 * cannot take `json_array_elements` alongside). `on conflict do nothing` skips an event
 * already written, also when a batch holds it twice. No `?` may appear but the bindings:
 * knex turns each into a `$n`.
 */
const INSERT_BATCH = `
  insert into ledger (${ARRAY_NAMES}, metadata)
  select ${ARRAY_VALUES}, metadata::jsonb
  from rows from (${ARRAY_FUNCTIONS}, json_array_elements(?::json))
    as batch(${ARRAY_NAMES}, metadata)
  on conflict (dedupe_key) do nothing`;

/** The statement's bindings: one array literal per column, then the metadata JSON array. */
export function ledgerInsertBindings(entries: readonly LedgerEntry[]): string[] {
  const bindings = COLUMNS.map((column) => arrayLiteral(entries.map(column.element)));
  bindings.push(JSON.stringify(entries.map((e) => e.metadata ?? {})));
  return bindings;
}

/** Inserts the entries in one statement; an entry whose dedupe key is there already is skipped. */
export async function insertLedgerEntries(
  knex: Knex,
  entries: readonly LedgerEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await knex.raw(INSERT_BATCH, ledgerInsertBindings(entries));
}
