/**
 * Input that no field of Switchboard can take, whatever the route: a NUL character (PostgreSQL
 * text and jsonb cannot hold one, so it would fail deep inside a query as a 500), half of a
 * UTF-16 surrogate pair on its own (JSON may spell one, `"\ud800"`, but it is no character:
 * jsonb refuses it with a 500 and a text column silently stores U+FFFD instead), and nesting
 * deeper than any real manifest or request needs (recursive code downstream, from schema
 * validation to digests, would exhaust the stack). Checked where input arrives, so the
 * person reads what is wrong and where, and nothing is half-written.
 */

/** Deeper than any manifest or request body has a reason to be. */
export const MAX_INPUT_DEPTH = 32;

export interface UnstorableInput {
  /** Where, as `spec.runtime.headers.x` or `input`; empty for the value itself. */
  path: string;
  /** The same, field by field. */
  segments: (string | number)[];
  /** What is wrong, in words, to follow the path. */
  problem: string;
}

/** A high surrogate not followed by a low one, or a low one not after a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

/** What is wrong with `text`'s characters, in words, or undefined. */
export function unstorableTextProblem(text: string): string | undefined {
  if (text.includes("\u0000"))
    return "contains a NUL character (\\u0000), which no text field takes";
  const lone = LONE_SURROGATE.exec(text)?.[0];
  if (lone === undefined) return undefined;
  const code = lone.charCodeAt(0).toString(16);
  return `contains half of a UTF-16 surrogate pair (\\u${code}) on its own, which is not a character`;
}

function pathOf(parts: readonly (string | number)[]): string {
  return parts
    .map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join("");
}

/**
 * The first reason `value` (parsed JSON, YAML, a query string object) cannot be stored, or
 * undefined. Walks without recursion, so a hostile depth cannot overflow the stack here.
 */
export function findUnstorableInput(
  value: unknown,
  /**
   * Depth only, and how deep: for input that is passed on rather than stored (the model
   * proxy's calls, whose tool schemas nest deeper than any manifest and whose text may hold
   * anything the provider takes).
   */
  options: { maxDepth?: number; text?: boolean } = {},
): UnstorableInput | undefined {
  const maxDepth = options.maxDepth ?? MAX_INPUT_DEPTH;
  const checkText = options.text ?? true;
  const pending: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value: node, path } = next;
    if (typeof node === "string") {
      const problem = checkText ? unstorableTextProblem(node) : undefined;
      if (problem) return { path: pathOf(path), segments: path, problem };
      continue;
    }
    if (typeof node !== "object" || node === null) continue;
    if (path.length >= maxDepth) {
      return {
        path: pathOf(path),
        segments: path,
        problem: `is nested more than ${maxDepth} levels deep`,
      };
    }
    const entries: [string | number, unknown][] = Array.isArray(node)
      ? node.map((item, index) => [index, item])
      : Object.entries(node);
    for (const [key, child] of entries) {
      const keyProblem =
        checkText && typeof key === "string" ? unstorableTextProblem(key) : undefined;
      if (keyProblem) {
        return {
          path: pathOf(path),
          segments: path,
          problem: `has a field name that ${keyProblem}`,
        };
      }
      pending.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}

/** The sentence for a person: "The request body's spec.title contains a NUL character…". */
export function describeUnstorableInput(where: string, found: UnstorableInput): string {
  return found.path ? `${where}'s ${found.path} ${found.problem}.` : `${where} ${found.problem}.`;
}
