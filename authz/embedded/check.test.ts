import { describe, expect, it } from "vitest";
import { authzErrorOf, evaluatorFor, tuple } from "./test-support.js";

const documents = `model
  schema 1.1
type user
type employee
type group
  relations
    define member: [user, group#member]
type doc
  relations
    define viewer: [user, user:*, group#member]
    define blocked: [user]
    define reader: viewer but not blocked`;

const check = (fga: ReturnType<typeof evaluatorFor>["fga"], text: string) => fga.check(tuple(text));

describe("check", () => {
  it("treats user:* in a request as asking whether everyone has the relation", () => {
    const { fga } = evaluatorFor(documents, ["doc:1#viewer@user:ann", "doc:2#viewer@user:*"]);
    expect(check(fga, "doc:1#viewer@user:*")).toBe(false);
    expect(check(fga, "doc:2#viewer@user:*")).toBe(true);
    expect(check(fga, "doc:2#viewer@user:bob")).toBe(true);
    // The wildcard is typed: it opens doc:2 to users, not to employees.
    expect(check(fga, "doc:2#viewer@employee:eve")).toBe(false);
  });

  it("ignores stored tuples whose user the current model no longer allows", () => {
    const stale = ["doc:1#viewer@user:ann", "doc:2#viewer@user:*", "doc:3#viewer@group:x#member"];
    const old = evaluatorFor(documents, [...stale, "group:x#member@user:bob"]);
    expect(check(old.fga, "doc:1#viewer@user:ann")).toBe(true);
    expect(check(old.fga, "doc:3#viewer@user:bob")).toBe(true);

    const { fga } = evaluatorFor(
      `model
  schema 1.1
type user
type employee
type group
  relations
    define member: [user]
type doc
  relations
    define viewer: [employee]`,
      [...stale, "group:x#member@user:bob"],
    );
    expect(check(fga, "doc:1#viewer@user:ann")).toBe(false);
    expect(check(fga, "doc:2#viewer@user:carl")).toBe(false);
    expect(check(fga, "doc:3#viewer@user:bob")).toBe(false);
  });

  it("counts contextual tuples for one request and never stores them", () => {
    const { fga, index } = evaluatorFor(documents);
    const withContext = {
      ...tuple("doc:1#viewer@user:ann"),
      contextualTuples: [tuple("doc:1#viewer@user:ann")],
    };
    expect(fga.check(withContext)).toBe(true);
    expect(index.size).toBe(0);
    expect(check(fga, "doc:1#viewer@user:ann")).toBe(false);
    // Contextual tuples combine with stored ones, here a userset with a stored membership.
    const { fga: teamFga } = evaluatorFor(documents, ["group:eng#member@user:ann"]);
    expect(
      teamFga.check({
        ...tuple("doc:1#viewer@user:ann"),
        contextualTuples: [tuple("doc:1#viewer@group:eng#member")],
      }),
    ).toBe(true);
  });

  it("follows usersets, and a userset always has the relation it names", () => {
    const { fga } = evaluatorFor(documents, [
      "doc:1#viewer@group:eng#member",
      "group:eng#member@group:backend#member",
      "group:backend#member@user:ann",
    ]);
    expect(check(fga, "doc:1#viewer@user:ann")).toBe(true);
    expect(check(fga, "doc:1#viewer@group:backend#member")).toBe(true);
    expect(check(fga, "group:empty#member@group:empty#member")).toBe(true);
    expect(check(fga, "doc:1#viewer@user:bob")).toBe(false);
  });

  it("terminates on cyclic usersets and denies unless another path allows", () => {
    const cycle = ["group:a#member@group:b#member", "group:b#member@group:a#member"];
    expect(check(evaluatorFor(documents, cycle).fga, "group:a#member@user:ann")).toBe(false);
    const joined = evaluatorFor(documents, [...cycle, "group:b#member@user:ann"]).fga;
    expect(check(joined, "group:a#member@user:ann")).toBe(true);
  });

  it("subtracts exclusions, and keeps a wildcard minus the excluded user", () => {
    const { fga } = evaluatorFor(documents, ["doc:1#viewer@user:*", "doc:1#blocked@user:bob"]);
    expect(check(fga, "doc:1#reader@user:ann")).toBe(true);
    expect(check(fga, "doc:1#reader@user:bob")).toBe(false);
    expect(check(fga, "doc:1#reader@user:*")).toBe(true);
  });

  it("refuses resolution deeper than OpenFGA's 25 levels, and allows 24", () => {
    // r0 holds users; each rK holds the userset resource:1#r(K-1): checking rN takes N hops.
    const chain = (hops: number) => {
      const relations = Array.from(
        { length: hops },
        (_, k) => `    define r${k + 1}: [resource#r${k}]`,
      );
      const dsl = `model\n  schema 1.1\ntype user\ntype resource\n  relations\n    define r0: [user]\n${relations.join("\n")}`;
      const tuples = Array.from(
        { length: hops },
        (_, k) => `resource:1#r${k + 1}@resource:1#r${k}`,
      );
      return evaluatorFor(dsl, ["resource:1#r0@user:ann", ...tuples]).fga;
    };
    expect(check(chain(24), "resource:1#r24@user:ann")).toBe(true);
    const error = authzErrorOf(() => check(chain(25), "resource:1#r25@user:ann"));
    expect(error.code).toBe("resolution_too_complex");
    expect(error.openFgaCode).toBe(2002);
  });

  it("answers a batch in order, sharing sub-results", () => {
    const { fga } = evaluatorFor(documents, [
      "group:eng#member@user:ann",
      "doc:1#viewer@group:eng#member",
      "doc:3#viewer@group:eng#member",
    ]);
    expect(
      fga.batchCheck({
        user: "user:ann",
        relation: "viewer",
        objects: ["doc:1", "doc:2", "doc:3"],
      }),
    ).toEqual([true, false, true]);
  });

  it("refuses invalid requests with OpenFGA's codes", () => {
    const { fga } = evaluatorFor(documents);
    const unknownRelation = authzErrorOf(() => check(fga, "doc:1#owner@user:ann"));
    expect([unknownRelation.code, unknownRelation.openFgaCode]).toEqual(["validation_error", 2000]);
    const unknownUserType = authzErrorOf(() => check(fga, "doc:1#viewer@robot:r2"));
    expect(unknownUserType.openFgaCode).toBe(2000);
    const wildcardObject = authzErrorOf(() => check(fga, "doc:*#viewer@user:ann"));
    expect(wildcardObject.openFgaCode).toBe(2000);
    const badContext = authzErrorOf(() =>
      fga.check({
        ...tuple("doc:1#viewer@user:ann"),
        contextualTuples: [tuple("doc:1#blocked@user:*")],
      }),
    );
    expect([badContext.code, badContext.openFgaCode]).toEqual(["invalid_contextual_tuple", 2027]);
    expect(badContext.message).toContain("doc:1#blocked@user:*");
  });

  it("validates tuples to write as OpenFGA's Write does", () => {
    const { fga } = evaluatorFor(documents);
    expect(() => fga.validateTupleForWrite(tuple("doc:1#viewer@group:eng#member"))).not.toThrow();
    for (const refused of [
      "doc:1#reader@user:ann",
      "doc:1#blocked@user:*",
      "doc:1#viewer@employee:eve",
    ]) {
      const error = authzErrorOf(() => fga.validateTupleForWrite(tuple(refused)));
      expect([error.code, error.openFgaCode], refused).toEqual(["invalid_tuple", 2027]);
    }
  });
});
