import { SwitchboardError } from "../../core/index.js";

/** One thing wrong with a manifest, located as precisely as the source allows. */
export interface ManifestProblem {
  /** The file it came from; absent for a manifest sent as JSON to the API. */
  file?: string | undefined;
  /** 1-based line in that file. */
  line?: number | undefined;
  /** The field, e.g. `spec.access.run[1]`; empty for the document as a whole. */
  path: string;
  message: string;
}

export type FieldPath = readonly PropertyKey[];

/** `["spec", "access", "run", 1]` → `spec.access.run[1]`. */
export function formatPath(path: FieldPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** `agents/triage.yaml:12: spec.access.run[1]: must be user:EMAIL, team:SLUG or user:*` */
export function formatProblem(problem: ManifestProblem): string {
  const where = problem.file ? `${problem.file}${problem.line ? `:${problem.line}` : ""}: ` : "";
  return `${where}${problem.path ? `${problem.path}: ` : ""}${problem.message}`;
}

/** A manifest that does not validate: 400 `invalid_manifest`, every problem listed. */
export class ManifestError extends SwitchboardError {
  constructor(readonly problems: readonly ManifestProblem[]) {
    const lines = problems.map(formatProblem);
    super(
      "invalid_manifest",
      problems.length === 1
        ? `The manifest is not valid: ${lines[0]}`
        : `The manifest is not valid (${problems.length} problems): ${lines.join("; ")}`,
      { status: 400, details: { problems: problems.map((problem) => ({ ...problem })) } },
    );
    this.name = "ManifestError";
  }
}
