import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AuthzError } from "./errors.js";
import { compileModel } from "./model-compiler.js";

function refusal(dsl: string): AuthzError {
  try {
    compileModel(dsl);
  } catch (error) {
    if (error instanceof AuthzError) return error;
    throw error;
  }
  throw new Error("the model was accepted");
}

describe("compileModel", () => {
  it("indexes types, relations, rewrites and type restrictions", () => {
    const model = compileModel(`model
  schema 1.1
type user
type group
  relations
    define member: [user, user:*, group#member]
type doc
  relations
    define parent: [group]
    define blocked: [user]
    define viewer: ([user] or member from parent) but not blocked`);
    const viewer = model.relation("doc", "viewer");
    expect(viewer?.assignable).toBe(true);
    expect(viewer?.rewrite).toEqual({
      kind: "exclusion",
      base: {
        kind: "union",
        children: [
          { kind: "direct" },
          { kind: "tupleToUserset", tupleset: "parent", computedRelation: "member" },
        ],
      },
      subtract: { kind: "computed", relation: "blocked" },
    });
    expect(model.relation("doc", "parent")?.tupleset).toBe(true);
    expect(model.relation("doc", "blocked")?.tupleset).toBe(false);
    const member = model.relation("group", "member");
    expect([...(member?.allowed.objectTypes ?? [])]).toEqual(["user"]);
    expect([...(member?.allowed.wildcardTypes ?? [])]).toEqual(["user"]);
    expect([...(member?.allowed.usersetTypes ?? [])]).toEqual(["group#member"]);
    expect(member?.allowsIndirectUsers).toBe(true);
    expect(model.relation("doc", "blocked")?.allowsIndirectUsers).toBe(false);
  });

  it("compiles Switchboard's own policy", () => {
    const model = compileModel(readFileSync(new URL("../model.fga", import.meta.url), "utf8"));
    expect([...model.types.keys()]).toEqual(["user", "platform", "team", "agent", "secret"]);
  });

  it("refuses models with conditions, saying the embedded evaluator does not support them", () => {
    const error = refusal(`model
  schema 1.1
type user
type doc
  relations
    define viewer: [user with office_hours]
condition office_hours(hour: int) {
  hour >= 9 && hour < 17
}`);
    expect(error.code).toBe("conditions_unsupported");
    expect(error.openFgaCode).toBeUndefined();
    expect(error.message).toMatch(/not supported by the embedded evaluator/);
    expect(error.message).toContain("doc#viewer");
  });

  it("refuses what OpenFGA refuses: syntax errors, undefined relations, loops of computed relations", () => {
    const syntax = refusal("model\n  schema 1.1\ntype user\n  relations\n    define : [user]");
    expect(syntax.code).toBe("invalid_model");
    expect(syntax.openFgaCode).toBe(2056);
    const undefinedRelation = refusal(`model
  schema 1.1
type user
type doc
  relations
    define viewer: editor`);
    expect(undefinedRelation.code).toBe("invalid_model");
    const loop = refusal(`model
  schema 1.1
type user
type doc
  relations
    define viewer: editor
    define editor: viewer`);
    expect(loop.code).toBe("invalid_model");
    expect(loop.message).toMatch(/impossible relation/);
  });

  it("refuses schema 1.0 models", () => {
    const error = refusal("model\n  schema 1.0\ntype user\n");
    expect(error.code).toBe("unsupported_schema_version");
    expect(error.openFgaCode).toBe(2057);
  });
});
