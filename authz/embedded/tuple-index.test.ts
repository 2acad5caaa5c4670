import { describe, expect, it } from "vitest";
import { AuthzError } from "./errors.js";
import { TupleIndex } from "./tuple-index.js";

const ann = { user: "user:ann", relation: "runner", object: "agent:triage" };
const supportMembers = { user: "team:support#member", relation: "runner", object: "agent:triage" };
const everyone = { user: "user:*", relation: "viewer", object: "agent:triage" };
const annOwnsLedger = { user: "user:ann", relation: "owner", object: "agent:ledger" };
const annInSupport = { user: "user:ann", relation: "member", object: "team:support" };

function indexOf(...tuples: { user: string; relation: string; object: string }[]): TupleIndex {
  const index = new TupleIndex();
  for (const tuple of tuples) index.add(tuple);
  return index;
}

describe("TupleIndex", () => {
  it("adds, finds and removes a tuple, counting each once", () => {
    const index = new TupleIndex();
    expect(index.add(ann)).toBe(true);
    expect(index.add({ ...ann })).toBe(false);
    expect(index.size).toBe(1);
    expect(index.has("agent:triage", "runner", "user:ann")).toBe(true);
    expect(index.has("agent:triage", "viewer", "user:ann")).toBe(false);
    expect(index.remove(ann)).toBe(true);
    expect(index.remove(ann)).toBe(false);
    expect(index.size).toBe(0);
    expect(index.has("agent:triage", "runner", "user:ann")).toBe(false);
    expect(index.read()).toEqual([]);
  });

  it("keeps wildcards and usersets apart from plain users, for checks", () => {
    const index = indexOf(ann, supportMembers, everyone);
    expect([...index.users("agent:triage", "runner")].sort()).toEqual([
      "team:support#member",
      "user:ann",
    ]);
    expect([...index.indirectUsers("agent:triage", "runner")]).toEqual(["team:support#member"]);
    expect([...index.indirectUsers("agent:triage", "viewer")]).toEqual(["user:*"]);
    index.remove(supportMembers);
    expect([...index.indirectUsers("agent:triage", "runner")]).toEqual([]);
  });

  it("looks up objects by user, relation and object type, for list-objects", () => {
    const index = indexOf(ann, annOwnsLedger, annInSupport, supportMembers);
    expect([...index.objects("user:ann", "runner", "agent")]).toEqual(["agent:triage"]);
    expect([...index.objects("user:ann", "member", "team")]).toEqual(["team:support"]);
    expect([...index.objects("user:ann", "member", "agent")]).toEqual([]);
    expect([...index.objects("team:support#member", "runner", "agent")]).toEqual(["agent:triage"]);
  });

  it("reads by object, object and relation, user and type, or everything", () => {
    const index = indexOf(ann, supportMembers, everyone, annOwnsLedger, annInSupport);
    const sorted = (tuples: unknown[]) => tuples.map((t) => JSON.stringify(t)).sort();
    expect(sorted(index.read({ object: "agent:triage" }))).toEqual(
      sorted([ann, supportMembers, everyone]),
    );
    expect(index.read({ object: "agent:triage", relation: "viewer" })).toEqual([everyone]);
    expect(index.read({ object: "agent:triage", relation: "runner", user: "user:ann" })).toEqual([
      ann,
    ]);
    expect(sorted(index.read({ user: "user:ann", object: "agent:" }))).toEqual(
      sorted([ann, annOwnsLedger]),
    );
    expect(index.read({ user: "user:ann", object: "team:", relation: "member" })).toEqual([
      annInSupport,
    ]);
    expect(sorted(index.read({ object: "team:" }))).toEqual(sorted([annInSupport]));
    expect(index.read().length).toBe(5);
  });

  it("refuses malformed tuples", () => {
    const index = new TupleIndex();
    for (const bad of [
      { user: "ann", relation: "runner", object: "agent:triage" },
      { user: "user:ann", relation: "runner", object: "agent" },
      { user: "user:ann", relation: "run ner", object: "agent:triage" },
      { user: "user:ann", relation: "runner", object: "agent:*" },
      { user: "team:*#member", relation: "runner", object: "agent:triage" },
    ]) {
      expect(() => index.add(bad), JSON.stringify(bad)).toThrow(AuthzError);
    }
    expect(index.size).toBe(0);
  });
});
