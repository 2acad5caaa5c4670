import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db/index.js";
import { BACKENDS, type TestBackend } from "../testing/test-databases.js";
import {
  arrayLiteral,
  epochSecondsElement,
  fixedDecimalElement,
  integerElement,
  textElement,
} from "./pg-array-literal.js";

/** Strings that break a naive array literal: its syntax, NULL, quoting, encodings. */
const NASTY_STRINGS = [
  "",
  " ",
  "  padded  ",
  "NULL",
  "null",
  "NULL ",
  '"',
  '""',
  "\\",
  "\\\\",
  '\\"',
  "ends with a backslash \\",
  'say "hi"',
  "a,b",
  "{",
  "}",
  "{a,b}",
  '{"a","b"}',
  "{{nested}}",
  "'single quotes'",
  "$1 ? ?? :name",
  "\\N",
  "tab\there",
  "new\nline",
  "\r\n",
  "ünïcödé",
  "日本語のテキスト",
  "emoji 🚀👩‍💻",
  "עברית RTL",
  "e\u0301 combining",
  "\u2028\u2029 separators",
  "\u0001\u001f controls",
  "x".repeat(10_000),
  'mix: {"q":"\\"x\\"", \\n, NULL}',
];

describe("array literal elements", () => {
  it("quotes every string, escaping only quotes and backslashes", () => {
    expect(textElement("gpt-4o")).toBe('"gpt-4o"');
    expect(textElement("")).toBe('""');
    expect(textElement("NULL")).toBe('"NULL"');
    expect(textElement('say "hi"')).toBe('"say \\"hi\\""');
    expect(textElement("a\\b")).toBe('"a\\\\b"');
    expect(textElement("{a, b}")).toBe('"{a, b}"');
    expect(textElement("🚀")).toBe('"🚀"');
  });

  it("writes null and undefined as SQL NULL", () => {
    expect(textElement(null)).toBe("NULL");
    expect(textElement(undefined)).toBe("NULL");
    expect(integerElement(null)).toBe("NULL");
    expect(fixedDecimalElement(undefined, 8)).toBe("NULL");
    expect(epochSecondsElement(null)).toBe("NULL");
    expect(epochSecondsElement(new Date(Number.NaN))).toBe("NULL");
  });

  it("writes numbers and timestamps unquoted", () => {
    expect(integerElement(0)).toBe("0");
    expect(integerElement(2 ** 40)).toBe("1099511627776");
    expect(fixedDecimalElement(0.1 + 0.2, 8)).toBe("0.30000000");
    expect(fixedDecimalElement(1e-9, 8)).toBe("0.00000000");
    expect(epochSecondsElement(new Date(Date.UTC(2026, 10, 24, 9, 30, 1, 7)))).toBe(
      "1795512601.007",
    );
    expect(arrayLiteral(["1", "NULL", '"a"'])).toBe('{1,NULL,"a"}');
    expect(arrayLiteral([])).toBe("{}");
  });
});

describe.each(BACKENDS)("array literals read back by %s", (_name, makeBackend) => {
  let backend: TestBackend;
  let db: Database;

  beforeAll(async () => {
    backend = makeBackend();
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.close();
  });

  async function readBack(type: string, literal: string): Promise<unknown[]> {
    const result = await db.knex.raw(
      `select value::text as value from unnest(?::${type}[]) with ordinality as a(value, n) order by n`,
      [literal],
    );
    return (result.rows as { value: string | null }[]).map((row) => row.value);
  }

  it("keeps every nasty string exactly, and NULL apart from 'NULL'", async () => {
    const values = [...NASTY_STRINGS, null];
    expect(await readBack("text", arrayLiteral(values.map(textElement)))).toEqual(values);
  });

  it("keeps each cost to the eight places the ledger stores", async () => {
    const costs = [
      0,
      0.1 + 0.2,
      1e-9,
      5e-9,
      1.25e-7,
      0.000000125,
      2.5e-8,
      1 / 3,
      -0.5,
      123456789.12345678,
      // More digits than a double holds: stored as toFixed rounds the double.
      Number.parseFloat("9999999999.123456"),
      0.00012345,
    ];
    const stored = await readBack(
      "numeric(18, 8)",
      arrayLiteral(costs.map((c) => fixedDecimalElement(c, 8))),
    );
    expect(stored).toEqual(costs.map((c) => c.toFixed(8)));
  });

  it("keeps integers, uuids and timestamps", async () => {
    const ints = [0, 1, 2 ** 53 - 1, -7];
    expect(await readBack("bigint", arrayLiteral(ints.map(integerElement)))).toEqual(
      ints.map(String),
    );
    const uuids = ["00000000-0000-4000-8000-000000000001", null];
    expect(await readBack("uuid", arrayLiteral(uuids.map(textElement)))).toEqual(uuids);
  });

  it("keeps every millisecond of a timestamp sent as epoch seconds", async () => {
    const now = Date.now();
    const dates = [
      new Date(Date.UTC(2026, 10, 24, 9, 30, 1, 7)),
      new Date(0),
      new Date(1),
      new Date(-1),
      new Date(Date.UTC(2099, 11, 31, 23, 59, 59, 999)),
      // Every millisecond of a few seconds: each a different rounding of the double.
      ...Array.from({ length: 3000 }, (_, i) => new Date(now + i)),
    ];
    const result = await db.knex.raw(
      `select extract(epoch from to_timestamp(value)) * 1000 as ms
        from unnest(?::float8[]) with ordinality as a(value, n) order by n`,
      [arrayLiteral(dates.map(epochSecondsElement))],
    );
    const read = (result.rows as { ms: string | number }[]).map((row) => Number(row.ms));
    expect(read).toEqual(dates.map((d) => d.getTime()));
  });
});
