import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuthzError } from "../embedded/index.js";
import { embeddedTarget } from "./embedded-target.js";
import { loadConformanceFile } from "./load.js";
import { formatReport } from "./report.js";
import { runConformance } from "./runner.js";
import type { ConformanceCase, StageSpec } from "./suite.js";
import type { ConformanceTarget } from "./target.js";

const model = `model
  schema 1.1
type user
type doc
  relations
    define viewer: [user]`;

const oneCase: ConformanceCase = {
  name: "viewer",
  stages: [
    {
      model,
      tuples: [{ user: "user:ann", relation: "viewer", object: "doc:1" }],
      assertions: [
        {
          api: "check",
          request: { user: "user:ann", relation: "viewer", object: "doc:1" },
          expect: { result: true },
        },
        {
          api: "listObjects",
          request: { user: "user:ann", relation: "viewer", type: "doc" },
          expect: { result: ["doc:1"] },
        },
        {
          api: "check",
          request: { user: "user:ann", relation: "owner", object: "doc:1" },
          expect: { errorCode: 2000 },
        },
      ],
    },
  ],
};

/** A target that answers every question wrongly, to prove the runner notices. */
const wrongTarget: ConformanceTarget = {
  name: "wrong",
  openStore: async () => ({
    close: async () => {},
    openStage: async () => ({
      check: async () => false,
      listObjects: async () => ["doc:2"],
      listUsers: async () => {
        throw new AuthzError("type_not_found", "no");
      },
    }),
  }),
};

describe("runConformance", () => {
  it("passes a target that answers as expected, errors included", async () => {
    const report = await runConformance(embeddedTarget(), { source: "inline", cases: [oneCase] });
    expect(report.totals).toEqual({ passed: 3, failed: 0, skipped: 0 });
    expect(formatReport(report).split("\n").at(-1)).toBe("3 passed, 0 failed");
  });

  it("fails every wrong answer and reports expected against actual", async () => {
    const report = await runConformance(wrongTarget, { source: "inline", cases: [oneCase] });
    expect(report.totals).toEqual({ passed: 0, failed: 3, skipped: 0 });
    expect(report.cases[0]?.status).toBe("failed");
    expect(report.cases[0]?.assertions.map((a) => [a.expected, a.actual])).toEqual([
      ["true", "false"],
      ["[doc:1]", "[doc:2]"],
      ["error 2000", "false"],
    ]);
  });

  it("skips, with the reason, stages whose model uses conditions", async () => {
    const conditional = `model
  schema 1.1
type user
type doc
  relations
    define viewer: [user with recent]
condition recent(age: int) {
  age < 10
}`;
    const skipped: ConformanceCase = {
      name: "conditional",
      stages: [{ ...(oneCase.stages[0] as StageSpec), model: conditional }],
    };
    const report = await runConformance(embeddedTarget(), { source: "inline", cases: [skipped] });
    expect(report.totals).toEqual({ passed: 0, failed: 0, skipped: 3 });
    expect(report.cases[0]?.status).toBe("skipped");
    expect(report.cases[0]?.assertions[0]?.reason).toMatch(
      /Conditions are not supported by the embedded evaluator/,
    );
    expect(formatReport(report).split("\n").at(-1)).toBe("0 passed, 0 failed, 3 skipped");
  });

  it("keeps earlier stages' tuples, judged by the later stage's model", async () => {
    const staged: ConformanceCase = {
      name: "stages",
      stages: [
        oneCase.stages[0] as StageSpec,
        {
          model: model.replace("[user]", "[user, user:*]"),
          tuples: [{ user: "user:*", relation: "viewer", object: "doc:2" }],
          assertions: [
            {
              api: "listObjects",
              request: { user: "user:ann", relation: "viewer", type: "doc" },
              expect: { result: ["doc:1", "doc:2"] },
            },
          ],
        },
      ],
    };
    const report = await runConformance(embeddedTarget(), { source: "inline", cases: [staged] });
    expect(report.totals).toEqual({ passed: 4, failed: 0, skipped: 0 });
  });
});

describe("store test files (.fga.yaml)", () => {
  it("reads model_file, tuple files, users × objects checks, list_objects and list_users", async () => {
    const folder = mkdtempSync(join(tmpdir(), "fga-store-"));
    writeFileSync(join(folder, "model.fga"), model);
    writeFileSync(
      join(folder, "tuples.yaml"),
      "- user: user:ann\n  relation: viewer\n  object: doc:1\n",
    );
    writeFileSync(
      join(folder, "extra.json"),
      JSON.stringify([{ user: "user:bob", relation: "viewer", object: "doc:2" }]),
    );
    writeFileSync(
      join(folder, "store.fga.yaml"),
      `name: sample
model_file: ./model.fga
tuple_file: ./tuples.yaml
tests:
  - name: ann and bob
    tuple_file: ./extra.json
    check:
      - users: [user:ann, user:bob]
        objects: [doc:1, doc:2]
        context: {ignored: true}
        assertions:
          viewer: false
    list_objects:
      - user: user:bob
        type: doc
        assertions:
          viewer: [doc:2]
    list_users:
      - object: doc:1
        user_filter: [{type: user}]
        assertions:
          viewer:
            users: [user:ann]
`,
    );
    const file = loadConformanceFile(join(folder, "store.fga.yaml"));
    expect(file.cases.map((c) => c.name)).toEqual(["ann and bob"]);
    const report = await runConformance(embeddedTarget(), file);
    // Four checks expect false; ann on doc:1 and bob on doc:2 are in fact viewers.
    expect(report.totals).toEqual({ passed: 4, failed: 2, skipped: 0 });
    expect(
      report.cases[0]?.assertions.filter((a) => a.status === "failed").map((a) => a.label),
    ).toEqual(["check user:ann viewer doc:1", "check user:bob viewer doc:2"]);
  });
});
