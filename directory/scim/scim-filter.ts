import { unstorableTextProblem } from "../../core/index.js";
import { invalidFilter } from "./scim-errors.js";

/**
 * SCIM filters (RFC 7644 §3.4.2.2), parsed into a tree and evaluated against a resource's
 * JSON. Only the lookups identity providers send to find one resource (`userName eq "…"`,
 * see `equalityOf`) are answered by the database, with the value as a bound parameter; no
 * filter text ever becomes SQL, so a hostile filter is at worst a filter that does not parse
 * (400 invalidFilter) or matches nothing.
 *
 * Supported: eq ne co sw ew gt ge lt le pr, and / or / not, parentheses, value filters
 * (`emails[type eq "work"]`), sub-attributes (`name.givenName`, `emails[type eq "work"].value`)
 * and attribute names with their schema URN.
 */

export interface AttrPath {
  attr: string;
  filter?: Filter | undefined;
  sub?: string | undefined;
}

export type CompareOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
type Scalar = string | number | boolean | null;

export type Filter =
  | { kind: "compare"; path: AttrPath; op: CompareOp; value: Scalar }
  | { kind: "present"; path: AttrPath }
  | { kind: "and" | "or"; left: Filter; right: Filter }
  | { kind: "not"; filter: Filter };

const MAX_FILTER_LENGTH = 2_000;
const MAX_DEPTH = 20;
const COMPARE_OPS = new Set(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);
/** Attributes compared with case (RFC 7643: caseExact true); all others ignore case. */
const CASE_EXACT = new Set(["id", "externalid"]);
const ATTR = /^[A-Za-z$][\w$-]*$/;

type Token =
  | { t: "word"; v: string }
  | { t: "string"; v: string }
  | { t: "punct"; v: "(" | ")" | "[" | "]" };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")" || c === "[" || c === "]") {
      tokens.push({ t: "punct", v: c });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length)
        throw invalidFilter("The filter has a string without its closing quote.");
      let value: string;
      try {
        value = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        throw invalidFilter("The filter has a string that is not valid.");
      }
      // An escape (`\u0000`, `\ud800`) spells what the URL check never saw and no column holds.
      const problem = unstorableTextProblem(value);
      if (problem) throw invalidFilter(`The filter has a string that ${problem}.`);
      tokens.push({ t: "string", v: value });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()[\]"]/.test(text[j] as string)) j++;
      // `emails[type eq "work"].value`: the ".value" after "]" is its own word.
      tokens.push({ t: "word", v: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/** An attribute name without its schema URN, e.g. `urn:…:User:userName` → `userName`. */
function plainName(name: string): string {
  const colon = name.lastIndexOf(":");
  return colon >= 0 ? name.slice(colon + 1) : name;
}

function attrOf(word: string): { attr: string; sub?: string } {
  const [attr, sub, extra] = plainName(word).split(".");
  if (!attr || !ATTR.test(attr) || extra !== undefined || (sub !== undefined && !ATTR.test(sub))) {
    throw invalidFilter("The filter names an attribute that is not valid.");
  }
  return sub === undefined ? { attr } : { attr, sub };
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Filter {
    const filter = this.or(0);
    if (this.at < this.tokens.length) throw invalidFilter("The filter has text it could not read.");
    return filter;
  }

  private peekWord(): string | undefined {
    const token = this.tokens[this.at];
    return token?.t === "word" ? token.v.toLowerCase() : undefined;
  }

  private or(depth: number): Filter {
    let left = this.and(depth);
    while (this.peekWord() === "or") {
      this.at++;
      left = { kind: "or", left, right: this.and(depth) };
    }
    return left;
  }

  private and(depth: number): Filter {
    let left = this.unary(depth);
    while (this.peekWord() === "and") {
      this.at++;
      left = { kind: "and", left, right: this.unary(depth) };
    }
    return left;
  }

  private unary(depth: number): Filter {
    if (depth > MAX_DEPTH) throw invalidFilter("The filter is nested too deeply.");
    const token = this.tokens[this.at];
    if (!token) throw invalidFilter("The filter ends too early.");
    if (token.t === "word" && token.v.toLowerCase() === "not") {
      this.at++;
      this.expect("(");
      const filter = this.or(depth + 1);
      this.expect(")");
      return { kind: "not", filter };
    }
    if (token.t === "punct" && token.v === "(") {
      this.at++;
      const filter = this.or(depth + 1);
      this.expect(")");
      return filter;
    }
    const path = this.attrPath(depth);
    const op = this.tokens[this.at++];
    const opName = op?.t === "word" ? op.v.toLowerCase() : "";
    if (opName === "pr") return { kind: "present", path };
    if (!COMPARE_OPS.has(opName)) throw invalidFilter("The filter has an unknown operator.");
    return { kind: "compare", path, op: opName as CompareOp, value: this.value() };
  }

  /** `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`. */
  attrPath(depth: number): AttrPath {
    const token = this.tokens[this.at++];
    if (token?.t !== "word") throw invalidFilter("The filter should name an attribute here.");
    const { attr, sub } = attrOf(token.v);
    const next = this.tokens[this.at];
    if (sub === undefined && next?.t === "punct" && next.v === "[") {
      this.at++;
      const filter = this.or(depth + 1);
      this.expect("]");
      const after = this.tokens[this.at];
      if (after?.t === "word" && after.v.startsWith(".")) {
        this.at++;
        const name = after.v.slice(1);
        if (!ATTR.test(name))
          throw invalidFilter("The filter names an attribute that is not valid.");
        return { attr, filter, sub: name };
      }
      return { attr, filter };
    }
    return sub === undefined ? { attr } : { attr, sub };
  }

  private value(): Scalar {
    const token = this.tokens[this.at++];
    if (token?.t === "string") return token.v;
    if (token?.t === "word") {
      const word = token.v.toLowerCase();
      if (word === "true") return true;
      if (word === "false") return false;
      if (word === "null") return null;
      if (/^-?\d+(\.\d+)?$/.test(token.v)) return Number(token.v);
    }
    throw invalidFilter('The filter compares with a value that is not valid: quote strings ("…").');
  }

  expect(punct: "(" | ")" | "[" | "]"): void {
    const token = this.tokens[this.at++];
    if (token?.t !== "punct" || token.v !== punct) {
      throw invalidFilter(`The filter is missing "${punct}".`);
    }
  }

  done(): boolean {
    return this.at >= this.tokens.length;
  }
}

/**
 * `ATTR eq "value"` on a top-level attribute that `fields` names (lower-case SCIM name → the
 * field the owner looks up by): the one filter shape the database answers. Undefined for any
 * other filter, which is evaluated in memory (`matches`).
 */
export function equalityOf<F extends string>(
  filter: Filter | undefined,
  fields: Readonly<Record<string, F>>,
): { field: F; value: string } | undefined {
  if (filter?.kind !== "compare" || filter.op !== "eq") return undefined;
  if (filter.path.filter || filter.path.sub || typeof filter.value !== "string") return undefined;
  const field = fields[filter.path.attr.toLowerCase()];
  return field === undefined ? undefined : { field, value: filter.value };
}

export function parseFilter(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) throw invalidFilter("The filter is too long.");
  return new Parser(tokenize(text)).parse();
}

/** A PATCH path (RFC 7644 §3.5.2): an attribute path, with a value filter if any. */
export function parsePath(text: string): AttrPath {
  if (text.length > MAX_FILTER_LENGTH) throw invalidFilter("The path is too long.");
  const parser = new Parser(tokenize(text));
  const path = parser.attrPath(0);
  if (!parser.done()) throw invalidFilter("The path has text it could not read.");
  return path;
}

/** A key of a JSON object, found without regard to case (SCIM attribute names ignore case). */
export function keyOf(object: Record<string, unknown>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === lower);
}

export function getAttr(object: unknown, name: string): unknown {
  if (!object || typeof object !== "object" || Array.isArray(object)) return undefined;
  const key = keyOf(object as Record<string, unknown>, name);
  return key === undefined ? undefined : (object as Record<string, unknown>)[key];
}

/** The values a path reaches in a resource: several for a multi-valued attribute. */
function valuesAt(resource: unknown, path: AttrPath): unknown[] {
  const raw = getAttr(resource, path.attr);
  let items = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  if (path.filter) {
    const filter = path.filter;
    items = items.filter((item) => matches(filter, item));
  }
  if (path.sub) {
    const sub = path.sub;
    items = items.flatMap((item) => {
      const value = getAttr(item, sub);
      return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
    });
  } else {
    // `emails eq "x"` compares the sub-attribute `value` of a multi-valued attribute.
    items = items.map((item) =>
      item && typeof item === "object" && !Array.isArray(item) ? getAttr(item, "value") : item,
    );
  }
  return items.filter((item) => item !== undefined && item !== null);
}

function compare(op: CompareOp, actual: unknown, expected: Scalar, caseExact: boolean): boolean {
  if (typeof actual === "string" && typeof expected === "string") {
    const a = caseExact ? actual : actual.toLowerCase();
    const e = caseExact ? expected : expected.toLowerCase();
    switch (op) {
      case "eq":
        return a === e;
      case "ne":
        return a !== e;
      case "co":
        return a.includes(e);
      case "sw":
        return a.startsWith(e);
      case "ew":
        return a.endsWith(e);
      case "gt":
        return a > e;
      case "ge":
        return a >= e;
      case "lt":
        return a < e;
      case "le":
        return a <= e;
    }
  }
  if (op === "eq") return actual === expected;
  if (op === "ne") return actual !== expected;
  if (typeof actual === "number" && typeof expected === "number") {
    if (op === "gt") return actual > expected;
    if (op === "ge") return actual >= expected;
    if (op === "lt") return actual < expected;
    if (op === "le") return actual <= expected;
  }
  return false;
}

export function matches(filter: Filter, resource: unknown): boolean {
  switch (filter.kind) {
    case "and":
      return matches(filter.left, resource) && matches(filter.right, resource);
    case "or":
      return matches(filter.left, resource) || matches(filter.right, resource);
    case "not":
      return !matches(filter.filter, resource);
    case "present":
      return valuesAt(resource, filter.path).some((value) => value !== "");
    case "compare": {
      const values = valuesAt(resource, filter.path);
      const caseExact = CASE_EXACT.has((filter.path.sub ?? filter.path.attr).toLowerCase());
      if (filter.op === "ne") {
        return !values.some((value) => compare("eq", value, filter.value, caseExact));
      }
      return values.some((value) => compare(filter.op, value, filter.value, caseExact));
    }
  }
}
