import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { type Document, isMap, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import { MAX_INPUT_DEPTH } from "../../core/index.js";
import type { FieldPath, ManifestProblem } from "./problems.js";
import {
  checkManifest,
  type LineOf,
  type RuntimeSettingsCheck,
  type ValidatedManifest,
} from "./validate.js";

/**
 * Manifests from files and folders: YAML (several documents per file allowed) or JSON.
 * Problems carry the file and line, so `agents validate` reads like a compiler.
 */

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

export interface LoadedManifests {
  manifests: ValidatedManifest[];
  problems: ManifestProblem[];
}

/**
 * The line of the deepest part of `path` present in the document: the key's own line for a
 * mapping entry (so a missing field points at its parent's key), the item's for a list.
 */
function lineFinder(doc: Document, lines: LineCounter): LineOf {
  return (path: FieldPath) => {
    let node: unknown = doc.contents;
    let offset = (doc.contents as Node | null)?.range?.[0];
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => (item.key as { value?: unknown } | null)?.value === segment,
        );
        if (!pair) break;
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
}

/**
 * A file is JSON when it is named `.json` or its text starts with `{`. YAML would accept much
 * broken JSON (a trailing comma, say) as a flow mapping, so JSON is held to JSON's grammar
 * first and its syntax error reported at its line and column.
 */
function jsonSyntaxProblem(text: string, file: string): ManifestProblem | undefined {
  if (extname(file) !== ".json" && !text.trimStart().startsWith("{")) return undefined;
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = Number(/position (\d+)/.exec(message)?.[1] ?? Number.NaN);
    const before = Number.isNaN(position) ? undefined : text.slice(0, position).split("\n");
    const line = before?.length;
    const column = before ? (before.at(-1)?.length ?? 0) + 1 : undefined;
    const reason = message
      .replace(/ in JSON at position \d+.*$/s, "")
      .replace(/^Unexpected end of JSON input$/, "the text ends before the JSON does");
    return {
      file,
      line,
      path: "",
      message: `is not valid JSON${column ? ` (column ${column})` : ""}: ${reason}`,
    };
  }
}

/**
 * The document as plain data. The YAML library refuses to expand aliases past a budget (a
 * "billion laughs" file would take all memory) by throwing; that is the file's problem,
 * reported at the document's first line, not a crash of `agents apply`.
 */
function documentValue(
  doc: Document,
  file: string,
  lines: LineCounter,
): { ok: true; value: unknown } | { ok: false; problem: ManifestProblem } {
  try {
    return { ok: true, value: doc.toJS() };
  } catch (error) {
    const offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      problem: {
        file,
        line: lines.linePos(offset).line,
        path: "",
        message: `cannot be read as a manifest: ${reason.replace(/\.$/, "")} (YAML aliases expand to more than a manifest needs)`,
      },
    };
  }
}

/** Deeper than any manifest's text goes: `[` and `{` open, or a line's leading spaces and `- `. */
const MAX_TEXT_NESTING = MAX_INPUT_DEPTH * 2;

/**
 * Hostile nesting, found by scanning the text before YAML reads it: the YAML parser recurses
 * once per level, and near the stack's end Node can die outright (a regular expression
 * compiled there fails as "out of memory") instead of throwing. Quoted text is skipped
 * roughly; a real manifest is nowhere near the limit either way.
 */
function nestingProblem(text: string, file: string): ManifestProblem | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = true;
  let indent = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      line++;
      lineStart = true;
      indent = 0;
      quote = undefined;
      continue;
    }
    if (lineStart && (c === " " || c === "-")) {
      if (++indent > MAX_TEXT_NESTING * 2) break;
      continue;
    }
    lineStart = false;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[" || c === "{") {
      if (++depth > MAX_TEXT_NESTING) break;
    } else if (c === "]" || c === "}") depth = Math.max(0, depth - 1);
  }
  if (depth <= MAX_TEXT_NESTING && indent <= MAX_TEXT_NESTING * 2) return undefined;
  return {
    file,
    line,
    path: "",
    message: `is nested deeper than a manifest needs (more than ${MAX_TEXT_NESTING} levels)`,
  };
}

/** Parses one file's text; each document is validated on its own. */
export function parseManifestText(
  text: string,
  file: string,
  checkRuntime?: RuntimeSettingsCheck,
): LoadedManifests {
  const jsonProblem = jsonSyntaxProblem(text, file);
  if (jsonProblem) return { manifests: [], problems: [jsonProblem] };
  const tooDeep = nestingProblem(text, file);
  if (tooDeep) return { manifests: [], problems: [tooDeep] };
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const result: LoadedManifests = { manifests: [], problems: [] };
  if (!Array.isArray(documents)) return result; // an empty file: nothing to apply
  for (const doc of documents) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        result.problems.push({
          file,
          line: lines.linePos(error.pos[0]).line,
          path: "",
          message: `is not valid YAML: ${error.message.split("\n")[0]}`,
        });
      }
      continue;
    }
    if (doc.contents === null) continue; // a stray `---`
    const value = documentValue(doc, file, lines);
    if (!value.ok) {
      result.problems.push(value.problem);
      continue;
    }
    const checked = checkManifest(value.value, {
      file,
      lineOf: lineFinder(doc, lines),
      checkRuntime,
    });
    if (checked.ok) result.manifests.push(checked.value);
    else result.problems.push(...checked.problems);
  }
  return result;
}

/**
 * The manifest files named: files as given, folders searched recursively, in name order.
 * Relative paths are read from `cwd` (the caller's folder when a running server takes the
 * command) and named as given.
 */
export function manifestFiles(paths: readonly string[], cwd = process.cwd()): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(resolve(cwd, path));
    } catch {
      throw new Error(`${path}: no such file or folder`);
    }
    if (!stats.isDirectory()) {
      files.push(path);
      continue;
    }
    const entries = readdirSync(resolve(cwd, path), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const child = join(path, entry.name);
      if (entry.isDirectory()) files.push(...manifestFiles([child], cwd));
      else if (MANIFEST_EXTENSIONS.has(extname(entry.name))) files.push(child);
    }
  }
  return files;
}

/**
 * Loads and validates every manifest under `paths` (runtime settings too, given the check);
 * a name given twice is a problem too.
 */
export function loadManifests(
  paths: readonly string[],
  options: { checkRuntime?: RuntimeSettingsCheck; cwd?: string } = {},
): LoadedManifests {
  const result: LoadedManifests = { manifests: [], problems: [] };
  const cwd = options.cwd ?? process.cwd();
  for (const file of manifestFiles(paths, cwd)) {
    const text = readFileSync(resolve(cwd, file), "utf8");
    const loaded = parseManifestText(text, file, options.checkRuntime);
    result.manifests.push(...loaded.manifests);
    result.problems.push(...loaded.problems);
  }
  const seen = new Map<string, ValidatedManifest>();
  for (const entry of result.manifests) {
    const first = seen.get(entry.manifest.metadata.name);
    if (first) {
      result.problems.push({
        file: entry.file,
        line: entry.line,
        path: "metadata.name",
        message: `"${entry.manifest.metadata.name}" is already defined in ${first.file}:${first.line}`,
      });
    } else {
      seen.set(entry.manifest.metadata.name, entry);
    }
  }
  return result;
}
