import fc from "fast-check";

/**
 * Generators of bad input for the property tests in this folder: text with NUL characters
 * and half surrogate pairs, numbers JSON can spell but JavaScript cannot hold (1e309, huge
 * integers), wrong types, unknown fields, hostile nesting and huge values, and values shaped
 * by a JSON Schema (the API's own OpenAPI document) so that generated bodies get past the
 * first check and reach the code behind it.
 */

/** The seed every property here runs with unless FUZZ_SEED says otherwise (fast-check prints the seed and path of a failure). */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261206);

/** Runs per property: FUZZ_RUNS overrides, to search longer than CI does. */
export const fuzzRuns = (ordinary: number) => Number(process.env.FUZZ_RUNS ?? ordinary);

/** A piece of JSON text put into a body as it is: `1e309`, `[[[…]]]` 40,000 deep, a 300 KB string. */
export class RawJson {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text.length > 60
      ? `${this.text.slice(0, 60)}… (${this.text.length} chars)`
      : this.text;
  }
}

/** JSON text of a value that may hold RawJson pieces (JSON.stringify escapes lone surrogates as \udXXX, which JSON.parse gives back). */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(",")}]`;
  if (value && typeof value === "object") {
    const fields = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Any UTF-16 code unit, lone surrogates and NUL included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

export const NASTY_TEXT = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udc00y",
  "end\ud83d",
  "😀",
  "\u202etxt.exe",
  "1e309",
  "NaN",
  "-1",
  "Infinity",
  "9007199254740993",
  "__proto__",
  "constructor",
  "null",
  "'; drop table agents; --",
  "../../etc/passwd",
  "%00",
  "<!channel>",
  "00000000-0000-0000-0000-000000000000",
  "plain",
  "team:sales",
  "user:mallory@example.com",
  "platform",
  "agent:plain",
] as const;

/** Text a person or a program might send, and text nobody should. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_TEXT) },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 3, arbitrary: fc.string({ unit: anyCodeUnit, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 500, maxLength: 3000 }) },
);

/** Numbers in range, out of range, and spelled so JavaScript cannot hold them. */
export const nastyNumber: fc.Arbitrary<number | RawJson> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 5e-324, 1e21),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc
    .constantFrom("1e309", "-1e309", "123456789012345678901234567890", "1E400", "-0.0", "1e-400")
    .map((text) => new RawJson(text)),
);

/** Nesting no body needs: a list or object this deep, as text (JSON.stringify would recurse). */
export const deepJson: fc.Arbitrary<RawJson> = fc
  .tuple(fc.constantFrom(33, 200, 5_000, 60_000), fc.boolean())
  .map(([depth, list]) =>
    list
      ? new RawJson(`${"[".repeat(depth)}${"]".repeat(depth)}`)
      : new RawJson(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
  );

/** A string past most bodies' limits (the API takes 256 KB) or just under them. */
export const hugeString: fc.Arbitrary<string> = fc
  .constantFrom(200_000, 300_000, 1_100_000)
  .map((size) => "x".repeat(size));

/** A leaf of any type, bad ones likely. */
export const nastyLeaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: nastyString },
  { weight: 6, arbitrary: nastyNumber },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 1, arbitrary: deepJson },
);

/** Arbitrary JSON with nasty leaves and nasty field names. */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    nastyLeaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(nastyString, fc.string({ maxLength: 8 })), tie("value"), {
      maxKeys: 4,
    }),
  ),
})).value;

/** Percent-encodes text for a URL, lone surrogates as the bytes a careless client would send (CESU-8, e.g. %ED%A0%80). */
export function percentEncode(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) {
      const bytes = [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
      out += bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join("");
    } else out += encodeURIComponent(char);
  }
  return out;
}

/** A path segment: a real name or id, nasty text encoded, or escapes that are not UTF-8. */
export function pathSegment(real: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real).map(percentEncode) },
    { weight: 3, arbitrary: nastyString.map(percentEncode) },
    { weight: 1, arbitrary: fc.uuid().map(percentEncode) },
    {
      weight: 2,
      arbitrary: fc.constantFrom("%E0%A4%A", "%ED%A0%80", "%FF", "%00", "%", "%2F..%2F", "a%ZZ"),
    },
  );
}

/** A query string over these parameter names (and unknown ones), values nasty, some repeated. */
export function queryString(names: readonly string[]): fc.Arbitrary<string> {
  const name = fc.oneof(
    { weight: 4, arbitrary: names.length > 0 ? fc.constantFrom(...names) : fc.constant("x") },
    { weight: 1, arbitrary: nastyString },
  );
  const value = fc.oneof(
    nastyString,
    nastyNumber.map(String),
    fc.constantFrom("%E0%A4%A", "%ED%A0%80", "2026-12-06", "2026-13-45", "true", "1", "100000"),
  );
  return fc
    .array(
      fc.tuple(name, value).map(([n, v]) => {
        const raw = v.startsWith("%") ? v : percentEncode(v);
        return `${percentEncode(n)}=${raw}`;
      }),
      { maxLength: 4 },
    )
    .map((pairs) => (pairs.length ? `?${pairs.join("&")}` : ""));
}

type Schema = Record<string, unknown>;

/**
 * A value shaped like `schema` (a JSON Schema, `$ref`s into `components`), with its leaves
 * often replaced by nasty ones, its required fields sometimes dropped and unknown fields
 * sometimes added: bodies that get past a route's first check and reach what is behind it.
 * `strings` are realistic text for fields by name (e.g. a manifest's `name`).
 */
export function fromSchema(
  schema: Schema,
  components: Record<string, Schema>,
  strings: Record<string, fc.Arbitrary<string>> = {},
  depth = 0,
  field = "",
): fc.Arbitrary<unknown> {
  const ref = schema.$ref;
  if (typeof ref === "string") {
    const target = components[ref.split("/").at(-1) ?? ""];
    return target ? fromSchema(target, components, strings, depth, field) : nastyJson;
  }
  const choices = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (choices && depth < 8) {
    return fc.oneof(...choices.map((s) => fromSchema(s, components, strings, depth + 1, field)));
  }
  const bad = nastyLeaf;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...schema.enum) },
      { weight: 1, arbitrary: bad },
    );
  }
  if (schema.const !== undefined)
    return fc.oneof(
      { weight: 5, arbitrary: fc.constant(schema.const) },
      { weight: 1, arbitrary: bad },
    );
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (depth > 8) return bad;
  switch (type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const fields = Object.fromEntries(
        Object.entries(properties).map(([name, s]) => [
          name,
          fc.option(fromSchema(s, components, strings, depth + 1, name), {
            nil: undefined,
            freq: required.has(name) ? 12 : 3,
          }),
        ]),
      );
      const extra = fc.dictionary(nastyString, nastyJson, { maxKeys: 2 });
      return fc
        .tuple(fc.record(fields), fc.option(extra, { freq: 4, nil: undefined }))
        .map(([value, more]) => {
          const object: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(value)) if (v !== undefined) object[k] = v;
          return more ? { ...object, ...more } : object;
        });
    }
    case "array": {
      const items = (schema.items ?? {}) as Schema;
      return fc.oneof(
        {
          weight: 5,
          arbitrary: fc.array(fromSchema(items, components, strings, depth + 1, field), {
            maxLength: 3,
          }),
        },
        { weight: 1, arbitrary: bad },
      );
    }
    case "string": {
      const real = strings[field] ?? fc.string({ minLength: 1, maxLength: 12 });
      return fc.oneof(
        { weight: 4, arbitrary: real },
        { weight: 2, arbitrary: nastyString },
        { weight: 1, arbitrary: bad },
      );
    }
    case "number":
    case "integer":
      return fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }) },
        { weight: 3, arbitrary: nastyNumber },
        { weight: 1, arbitrary: bad },
      );
    case "boolean":
      return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: bad });
    default:
      return nastyJson;
  }
}

/** A body as text: schema-shaped or any JSON, now and then deep, huge, or not JSON at all. */
export function bodyText(shaped: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: shaped.map(toJsonText) },
    { weight: 4, arbitrary: nastyJson.map(toJsonText) },
    { weight: 1, arbitrary: deepJson.map((raw) => raw.text) },
    { weight: 1, arbitrary: hugeString.map((text) => JSON.stringify({ input: text })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("", "{", "nul\u0000l", '{"a":1}garbage', "[1,2,", "\ud800"),
    },
  );
}

/** The sentence a person reads in an error body: `error.message` (ours), `error` (chat intakes), `detail` (SCIM), or the text. */
function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const error = body.error as Record<string, unknown> | string | undefined;
    const message =
      typeof error === "string" ? error : (error?.message ?? body.detail ?? body.message);
    return typeof message === "string" ? message : "";
  } catch {
    return text;
  }
}

/** A status and body that count as an answer in words: a 4xx whose message says something, or a success. */
export function answerProblem(status: number, text: string): string | undefined {
  if (status >= 200 && status < 400) return undefined;
  if (status >= 500 || status < 200) return `answered ${status}: ${text.slice(0, 300)}`;
  const words = messageOf(text).match(/[A-Za-z]{2,}/g) ?? [];
  if (words.length < 3) return `a ${status} without words: ${text.slice(0, 300)}`;
  return undefined;
}
