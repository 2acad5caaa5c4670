import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  formatProblem,
  loadManifests,
  type ManifestProblem,
  manifestJsonSchema,
  parseManifestText,
  validateManifest,
} from "./index.js";

const triage = `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: triage
  title: Ticket triage
  owner: team:support
  tags: [support, tickets]
  lifecycle: production
spec:
  runtime:
    type: a2a
    url: https://agents.internal/triage
    api_key: { env: TRIAGE_KEY }
    max_tokens: 2000
  skills:
    - name: classify
      examples: ["Which queue does this ticket belong in?"]
  access:
    view: ["user:*"]
    run: [team:support, user:ada@example.com]
`;

const messages = (problems: ManifestProblem[]) => problems.map(formatProblem);

describe("agent manifests", () => {
  it("accept a complete manifest, filling in defaults", () => {
    const { manifests, problems } = parseManifestText(triage, "agents/triage.yaml");
    expect(problems).toEqual([]);
    expect(manifests).toHaveLength(1);
    const [entry] = manifests;
    expect(entry?.manifest.metadata).toMatchObject({ name: "triage", description: "", links: [] });
    expect(entry?.manifest.spec.skills[0]).toEqual({
      name: "classify",
      description: "",
      examples: ["Which queue does this ticket belong in?"],
    });
    expect(entry?.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("name the file, the line and the field of each problem", () => {
    const broken = triage
      .replace("run: [team:support, user:ada@example.com]", "run: [team:support, ada@example.com]")
      .replace("lifecycle: production", "lifecycle: live");
    const { manifests, problems } = parseManifestText(broken, "agents/triage.yaml");
    expect(manifests).toEqual([]);
    expect(messages(problems)).toEqual([
      "agents/triage.yaml:8: metadata.lifecycle: must be experimental, production or deprecated",
      "agents/triage.yaml:20: spec.access.run[1]: must be user:EMAIL, team:SLUG or user:*",
    ]);
  });

  it("point a missing field at its parent and an unknown one at itself", () => {
    const text = triage.replace("  title: Ticket triage\n", "").replace("  tags:", "  tagz:");
    expect(messages(parseManifestText(text, "t.yaml").problems)).toEqual([
      "t.yaml:3: metadata.title: is required",
      "t.yaml:6: metadata.tagz: is not a known field",
    ]);
  });

  it("refuse inline secrets but take references to them", () => {
    const text = triage.replace("api_key: { env: TRIAGE_KEY }", "api_key: sk-live-123");
    expect(messages(parseManifestText(text, "t.yaml").problems)).toEqual([
      "t.yaml:13: spec.runtime.api_key: looks like an inline secret; give it as { env: NAME } or { secret: NAME }",
    ]);
    const nested = triage.replace(
      "api_key: { env: TRIAGE_KEY }",
      "headers:\n      - { name: x, auth_token: abc }\n    password: { secret: vault/triage }",
    );
    expect(messages(parseManifestText(nested, "t.yaml").problems)).toEqual([
      "t.yaml:14: spec.runtime.headers[0].auth_token: looks like an inline secret; give it as { env: NAME } or { secret: NAME }",
    ]);
  });

  it("bound a turn's time limit to 24 hours, saying so", () => {
    const limited = (seconds: string) =>
      triage.replace("  access:\n", `  limits: { timeout_seconds: ${seconds} }\n  access:\n`);
    expect(parseManifestText(limited("86400"), "t.yaml").problems).toEqual([]);
    for (const seconds of ["3000000", "86401", "0", "1.5"]) {
      expect(messages(parseManifestText(limited(seconds), "t.yaml").problems)).toEqual([
        "t.yaml:18: spec.limits.timeout_seconds: must be a whole number of seconds from 1 to 86400 (24 hours)",
      ]);
    }
  });

  it("report runtime-setting problems with the others, at their own line", () => {
    // A stand-in for the runtime registry's check: a2a needs an https url.
    const checkRuntime = (runtime: { type: string } & Record<string, unknown>) =>
      String(runtime.url).startsWith("https:")
        ? []
        : [{ path: "spec.runtime.url", message: "must be an https URL" }];
    const broken = triage
      .replace("url: https://agents.internal/triage", "url: http://agents.internal/triage")
      .replace("lifecycle: production", "lifecycle: live");
    const { manifests, problems } = parseManifestText(broken, "agents/triage.yaml", checkRuntime);
    expect(manifests).toEqual([]);
    expect(messages(problems)).toEqual([
      "agents/triage.yaml:8: metadata.lifecycle: must be experimental, production or deprecated",
      "agents/triage.yaml:12: spec.runtime.url: must be an https URL",
    ]);
    expect(() =>
      validateManifest(
        {
          ...validateManifest(parseManifestText(triage, "t.yaml").manifests[0]?.manifest).manifest,
          spec: { runtime: { type: "a2a", url: "http://x" } },
        },
        checkRuntime,
      ),
    ).toThrow("spec.runtime.url: must be an https URL");
  });

  it("word each bound on a field: a negative cost, an overlong title or description", () => {
    const broken = triage
      .replace("title: Ticket triage", `title: ${"t".repeat(5000)}`)
      .replace(
        "  lifecycle: production",
        `  lifecycle: production\n  description: ${"d".repeat(4001)}`,
      )
      .replace("  access:", "  limits:\n    max_cost_usd_per_run: -1\n  access:");
    const { problems } = parseManifestText(broken, "agents/triage.yaml");
    expect(messages(problems)).toEqual([
      "agents/triage.yaml:5: metadata.title: is too long: at most 120 characters",
      "agents/triage.yaml:9: metadata.description: is too long: at most 4000 characters",
      "agents/triage.yaml:20: spec.limits.max_cost_usd_per_run: must be more than 0 (dollars, e.g. 0.5)",
    ]);
    const notNumber = parseManifestText(
      triage.replace("  access:", "  limits:\n    max_cost_usd_per_run: lots\n  access:"),
      "a.yaml",
    );
    expect(messages(notNumber.problems)).toEqual([
      "a.yaml:19: spec.limits.max_cost_usd_per_run: must be a number of dollars, e.g. 0.5",
    ]);
  });

  it("hold a JSON file to JSON's grammar, reporting a trailing comma at its line and column", () => {
    const json = '{\n  "apiVersion": "switchboard/v1",\n  "kind": "Agent",\n}\n';
    const { manifests, problems } = parseManifestText(json, "agents/triage.json");
    expect(manifests).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(formatProblem(problems[0] as ManifestProblem)).toMatch(
      /^agents\/triage\.json:4: is not valid JSON \(column 1\): /,
    );
    // Text that starts with "{" is JSON whatever the file is called.
    expect(parseManifestText('{"kind": "Agent",}', "agents/x.yaml").problems[0]?.message).toMatch(
      /^is not valid JSON/,
    );
  });

  it("read several documents from one file and report YAML syntax errors by line", () => {
    const second = triage.replace("name: triage", "name: faq");
    const { manifests } = parseManifestText(`${triage}---\n${second}---\n`, "both.yaml");
    expect(manifests.map((m) => [m.manifest.metadata.name, m.line])).toEqual([
      ["triage", 1],
      ["faq", 22],
    ]);
    const { problems } = parseManifestText("apiVersion: [\n", "bad.yaml");
    expect(problems[0]?.file).toBe("bad.yaml");
    expect(problems[0]?.message).toMatch(/^is not valid YAML/);
  });

  it("throw a 400 invalid_manifest for a JSON body, naming each field", () => {
    expect(() => validateManifest({ apiVersion: "switchboard/v2", kind: "Agent" })).toThrowError(
      expect.objectContaining({
        code: "invalid_manifest",
        status: 400,
        message: expect.stringContaining("apiVersion: must be switchboard/v1"),
      }),
    );
  });

  it("publish a JSON Schema made from the same definition", () => {
    const schema = manifestJsonSchema() as {
      properties: { metadata: { properties: Record<string, unknown>; required: string[] } };
    };
    expect(schema.properties.metadata.required).toEqual(["name", "title", "owner"]);
    expect(Object.keys(schema.properties.metadata.properties)).toContain("lifecycle");
  });
});

describe("the example manifests", () => {
  it("are valid", () => {
    const { manifests, problems } = loadManifests([
      fileURLToPath(new URL("../examples", import.meta.url)),
    ]);
    expect(problems.map(formatProblem)).toEqual([]);
    expect(manifests.length).toBeGreaterThan(0);
  });

  it("reports a YAML alias bomb as the file's problem instead of throwing", () => {
    const levels = ["a", "b", "c", "d", "e", "f"];
    const bomb = levels
      .map((name, i) =>
        i === 0
          ? `${name}: &${name} [x, x, x, x, x, x, x, x, x]`
          : `${name}: &${name} [${Array(9)
              .fill(`*${levels[i - 1]}`)
              .join(", ")}]`,
      )
      .join("\n");
    const { manifests, problems } = parseManifestText(bomb, "bomb.yaml");
    expect(manifests).toEqual([]);
    expect(problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        /^bomb\.yaml:1: cannot be read as a manifest: .*aliases expand to more/,
      ),
    ]);
  });

  it("reports hostile nesting before YAML recurses into it", () => {
    for (const text of [`metadata: ${"[".repeat(100_000)}`, `${"- ".repeat(5_000)}x`]) {
      const { problems } = parseManifestText(text, "deep.yaml");
      expect(problems.map(formatProblem)).toEqual([
        "deep.yaml:1: is nested deeper than a manifest needs (more than 64 levels)",
      ]);
    }
  });
});
