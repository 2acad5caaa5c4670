import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runtimeSettingsCheck } from "../../app/runs.js";
import { findUnstorableInput } from "../../core/index.js";
import {
  checkManifest,
  type ManifestProblem,
  manifestJsonSchema,
  parseManifestText,
} from "../../directory/manifest/index.js";
import {
  answerProblem,
  FUZZ_SEED,
  fromSchema,
  fuzzRuns,
  nastyString,
  toJsonText,
} from "./arbitraries.js";

/**
 * The manifest loader (what `switchboard agents apply|validate` and the API's bodies go
 * through) given generated YAML and JSON: manifests shaped by the manifest's own JSON Schema
 * with bad leaves, YAML's own hazards (alias bombs, tags, merge keys, NUL escapes, hostile
 * nesting), and text that is neither. It never throws; every problem names its file and
 * says what is wrong in words; and whatever it accepts can be stored.
 */

const check = runtimeSettingsCheck({ RUNTIME_ENV_ALLOWLIST: ["ALLOWED_KEY"] });
const schema = manifestJsonSchema();
const components = (schema.$defs ?? {}) as Record<string, Record<string, unknown>>;

const manifests = fromSchema(schema, components, {
  apiVersion: fc.constant("switchboard/v1"),
  kind: fc.constant("Agent"),
  name: fc.oneof(
    fc.constantFrom("helpdesk", "triage"),
    fc.stringMatching(/^[a-z][a-z0-9-]{2,20}$/),
  ),
  owner: fc.constantFrom("team:support", "user:ada@example.com", "team:"),
  type: fc.constantFrom(
    "demo",
    "http",
    "a2a",
    "n8n",
    "claude-managed-agents",
    "cursor",
    "bedrock-agentcore",
    "databricks",
    "elastic-agent-builder",
  ),
  url: fc.constantFrom("http://127.0.0.1:9/", "https://agents.internal/x", "ftp://x", "not a url"),
});

/** YAML's own ways to hurt a loader. */
const yamlHazards = fc.constantFrom(
  // A billion laughs: each alias expands the one before.
  `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`,
  "apiVersion: switchboard/v1\nkind: Agent\nmetadata: &m\n  name: loop\n  self: *m\n",
  'metadata:\n  title: "bad\\0title"\n  name: nul\n',
  'metadata:\n  title: "half \\ud800 pair"\n',
  "metadata: !!binary aGVsbG8=\n",
  "metadata: !!js/function 'function () { return 1 }'\n",
  "<<: *undefined\n",
  "base: &base { name: x }\nmetadata: { <<: *base, title: y }\n",
  `${"- ".repeat(5000)}x\n`,
  `${"[".repeat(100_000)}`,
  `{"metadata": ${"[".repeat(50_000)}${"]".repeat(50_000)}}`,
  "\u0000\u0000",
  "---\n---\n---\n",
  "%YAML 9.9\n---\nx: 1\n",
  "key: value\n\tbad: tab\n",
  `metadata:\n  title: ${"x".repeat(300_000)}\n`,
  "? [a, b]\n: complex key\n",
  "1e309: 1e309\nmetadata: {name: 0x1F, title: .inf}\n",
);

const texts = fc.oneof(
  {
    weight: 6,
    arbitrary: manifests.map((value) => ({ file: "agent.yaml", text: safeYaml(value) })),
  },
  {
    weight: 4,
    arbitrary: manifests.map((value) => ({ file: "agent.json", text: toJsonText(value) })),
  },
  { weight: 2, arbitrary: yamlHazards.map((text) => ({ file: "agent.yaml", text })) },
  { weight: 2, arbitrary: nastyString.map((text) => ({ file: "agent.yaml", text })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        manifests.map(safeYaml),
        fc.nat(),
        fc.constantFrom("", "\u0000", "\ud800", "&a", "*a", ": :", "]", "\t", "!!x ", "---\n"),
      )
      .map(([text, at, insert]) => ({
        file: "agent.yaml",
        text: text.slice(0, at % (text.length + 1)) + insert + text.slice(at % (text.length + 1)),
      })),
  },
);

/** YAML of a generated value; RawJson pieces (1e309, deep lists) go in as their JSON text, which YAML reads too. */
function safeYaml(value: unknown): string {
  try {
    return stringify(JSON.parse(toJsonText(value)), { aliasDuplicateObjects: false });
  } catch {
    // Deeper than JSON.parse or YAML's writer go: flow style is JSON, which YAML reads.
    return toJsonText(value);
  }
}

function problemsInWords(
  problems: ManifestProblem[],
  file: string | undefined,
): string | undefined {
  for (const problem of problems) {
    if (problem.file !== file) return `a problem without its file: ${JSON.stringify(problem)}`;
    const words = answerProblem(400, `${problem.path} ${problem.message}`);
    if (words) return `${words} (${JSON.stringify(problem).slice(0, 300)})`;
  }
  return undefined;
}

describe("the manifest loader given generated YAML and JSON", { timeout: 120_000 }, () => {
  it("never throws, says what is wrong in words, and accepts only what can be stored", () => {
    fc.assert(
      fc.property(texts, ({ file, text }) => {
        const loaded = parseManifestText(text, file, check);
        expect(problemsInWords(loaded.problems, file)).toBeUndefined();
        for (const { manifest } of loaded.manifests) {
          expect(findUnstorableInput(manifest)).toBeUndefined();
          expect(() => JSON.stringify(manifest)).not.toThrow();
        }
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(250), endOnFailure: true },
    );
  });

  it("checks a generated manifest object (an API body) without throwing", () => {
    fc.assert(
      fc.property(manifests, (value) => {
        // What express.json hands over: RawJson pieces read back as JSON does.
        let body: unknown;
        try {
          body = JSON.parse(toJsonText(value));
        } catch {
          return; // deeper than JSON.parse goes: the body parser refuses it first
        }
        const checked = checkManifest(body, { checkRuntime: check });
        if (checked.ok) expect(findUnstorableInput(checked.value.manifest)).toBeUndefined();
        else expect(problemsInWords(checked.problems, undefined)).toBeUndefined();
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(250), endOnFailure: true },
    );
  });
});
