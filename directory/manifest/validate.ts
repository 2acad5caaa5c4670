import { createHash } from "node:crypto";
import type { z } from "zod";
import { findUnstorableInput } from "../../core/index.js";
import { type FieldPath, formatPath, ManifestError, type ManifestProblem } from "./problems.js";
import { type AgentManifest, agentManifestSchema } from "./schema.js";

/** Finds the source line of a field; the YAML loader supplies one, JSON bodies have none. */
export type LineOf = (path: FieldPath) => number | undefined;

/**
 * Problems with `spec.runtime` as its runtime's adapter sees them (the runtime registry's
 * `check`); paths are dotted from the manifest's root, e.g. `spec.runtime.url`.
 */
export type RuntimeSettingsCheck = (
  runtime: { type: string } & Record<string, unknown>,
) => { path: string; message: string }[];

/** `spec.runtime.headers.0` → `["spec", "runtime", "headers", 0]`, for the line finder. */
function fieldPathOf(dotted: string): FieldPath {
  return dotted.split(".").map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

/**
 * The runtime adapter's problems, checked alongside the schema's (not after they are fixed),
 * whenever `spec.runtime` names a type at all.
 */
function runtimeProblemsOf(
  input: unknown,
  check: RuntimeSettingsCheck | undefined,
  file: string | undefined,
  lineOf: LineOf,
): ManifestProblem[] {
  const runtime = valueAt(input, ["spec", "runtime"]);
  if (!check || typeof runtime !== "object" || runtime === null || Array.isArray(runtime))
    return [];
  const settings = runtime as { type?: unknown } & Record<string, unknown>;
  if (typeof settings.type !== "string") return [];
  return check(settings as { type: string } & Record<string, unknown>).map((problem) => ({
    file,
    line: lineOf(fieldPathOf(problem.path)),
    path: problem.path,
    message: problem.message,
  }));
}

export interface ValidatedManifest {
  manifest: AgentManifest;
  /** Tells an unchanged re-apply from an update: sha256 of the canonical validated manifest. */
  digest: string;
  file?: string | undefined;
  line?: number | undefined;
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** Zod's issues, reworded for a person and split so that each names one field. */
function problemsOf(
  error: z.ZodError,
  input: unknown,
  file: string | undefined,
  lineOf: LineOf,
): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (path: FieldPath, message: string) =>
    problems.push({ file, line: lineOf(path), path: formatPath(path), message });
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) add([...issue.path, key], "is not a known field");
    } else if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
      add(issue.path, "is required");
    } else {
      add(issue.path, issue.message);
    }
  }
  return problems;
}

const byLine = (a: ManifestProblem, b: ManifestProblem) => (a.line ?? 0) - (b.line ?? 0);

/** JSON with keys sorted, so the digest does not depend on the order fields were written in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function manifestDigest(manifest: AgentManifest): string {
  return createHash("sha256").update(canonicalJson(manifest)).digest("hex");
}

/** Validates one manifest; the problems name the file, line and field where known. */
export function checkManifest(
  input: unknown,
  source: {
    file?: string | undefined;
    lineOf?: LineOf;
    checkRuntime?: RuntimeSettingsCheck | undefined;
  } = {},
): { ok: true; value: ValidatedManifest } | { ok: false; problems: ManifestProblem[] } {
  const lineOf = source.lineOf ?? (() => undefined);
  // Before the schema: its checks (and the digest) recurse, and storage refuses NUL.
  const unstorable = findUnstorableInput(input);
  if (unstorable) {
    return {
      ok: false,
      problems: [
        {
          file: source.file,
          line: lineOf(unstorable.segments),
          path: unstorable.path,
          message: unstorable.problem,
        },
      ],
    };
  }
  const parsed = agentManifestSchema.safeParse(input);
  const problems = [
    ...(parsed.success ? [] : problemsOf(parsed.error, input, source.file, lineOf)),
    ...runtimeProblemsOf(input, source.checkRuntime, source.file, lineOf),
  ];
  if (!parsed.success || problems.length > 0) {
    return { ok: false, problems: problems.sort(byLine) };
  }
  return {
    ok: true,
    value: {
      manifest: parsed.data,
      digest: manifestDigest(parsed.data),
      file: source.file,
      line: lineOf([]),
    },
  };
}

/**
 * Validates one manifest, its runtime settings too when given the check, or throws
 * `ManifestError` (400 `invalid_manifest`).
 */
export function validateManifest(
  input: unknown,
  checkRuntime?: RuntimeSettingsCheck,
): ValidatedManifest {
  const result = checkManifest(input, { checkRuntime });
  if (!result.ok) throw new ManifestError(result.problems);
  return result.value;
}
