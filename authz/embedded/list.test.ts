import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { TupleKey } from "../types.js";
import { ModelEvaluator } from "./evaluator.js";
import { compileModel } from "./model-compiler.js";
import { authzErrorOf, evaluatorFor, sorted, tuple } from "./test-support.js";
import { TupleIndex } from "./tuple-index.js";

const folders = `model
  schema 1.1
type user
type group
  relations
    define member: [user, user:*, group#member]
type folder
  relations
    define viewer: [user, group#member]
type doc
  relations
    define parent: [folder]
    define blocked: [user]
    define allowed: [user, user:*]
    define viewer: ([user, user:*] or viewer from parent) but not blocked
    define cleared: viewer and allowed`;

describe("listObjects", () => {
  const { fga } = evaluatorFor(folders, [
    "group:eng#member@user:ann",
    "folder:f1#viewer@group:eng#member",
    "doc:1#parent@folder:f1",
    "doc:2#parent@folder:f1",
    "doc:2#blocked@user:ann",
    "doc:3#viewer@user:*",
    "doc:4#viewer@user:bob",
    "doc:1#allowed@user:ann",
  ]);

  it("follows usersets, tuple-to-userset and wildcards, then applies exclusions and intersections", () => {
    expect(sorted(fga.listObjects({ user: "user:ann", relation: "viewer", type: "doc" }))).toEqual([
      "doc:1",
      "doc:3",
    ]);
    expect(fga.listObjects({ user: "user:ann", relation: "cleared", type: "doc" })).toEqual([
      "doc:1",
    ]);
    expect(
      sorted(fga.listObjects({ user: "group:eng#member", relation: "viewer", type: "folder" })),
    ).toEqual(["folder:f1"]);
    expect(fga.listObjects({ user: "user:*", relation: "viewer", type: "doc" })).toEqual(["doc:3"]);
  });

  it("layers contextual tuples for the one request", () => {
    const request = {
      user: "user:carl",
      relation: "viewer",
      type: "doc",
      contextualTuples: [tuple("group:eng#member@user:carl")],
    };
    expect(sorted(fga.listObjects(request))).toEqual(["doc:1", "doc:2", "doc:3"]);
    expect(fga.listObjects({ ...request, contextualTuples: [] })).toEqual(["doc:3"]);
  });

  it("refuses unknown types and relations with OpenFGA's codes", () => {
    expect(
      authzErrorOf(() => fga.listObjects({ user: "user:ann", relation: "viewer", type: "page" }))
        .openFgaCode,
    ).toBe(2021);
    expect(
      authzErrorOf(() => fga.listObjects({ user: "user:ann", relation: "owner", type: "doc" }))
        .openFgaCode,
    ).toBe(2022);
    expect(
      authzErrorOf(() => fga.listObjects({ user: "robot:r2", relation: "viewer", type: "doc" }))
        .openFgaCode,
    ).toBe(2000);
  });
});

describe("listUsers", () => {
  const { fga } = evaluatorFor(folders, [
    "group:eng#member@user:ann",
    "group:eng#member@group:ops#member",
    "group:ops#member@user:olaf",
    "folder:f1#viewer@group:eng#member",
    "doc:1#parent@folder:f1",
    "doc:1#blocked@user:olaf",
    "doc:3#viewer@user:*",
    "doc:3#blocked@user:bob",
    "doc:3#allowed@user:bob",
    "doc:3#allowed@user:carl",
  ]);
  const users = (object: string, relation: string, type = "user", filterRelation?: string) =>
    sorted(fga.listUsers({ object, relation, userFilters: [{ type, relation: filterRelation }] }));

  it("lists users through usersets and parents, minus exclusions", () => {
    expect(users("folder:f1", "viewer")).toEqual(["user:ann", "user:olaf"]);
    expect(users("doc:1", "viewer")).toEqual(["user:ann"]);
  });

  it("lists usersets for a userset filter, including nested ones", () => {
    expect(users("folder:f1", "viewer", "group", "member")).toEqual([
      "group:eng#member",
      "group:ops#member",
    ]);
  });

  it("reports a wildcard as type:*, keeps it minus excluded users, and intersects it down to named users", () => {
    expect(users("doc:3", "viewer")).toEqual(["user:*"]);
    expect(users("doc:3", "cleared")).toEqual(["user:carl"]);
  });

  it("takes exactly one filter, of a defined type", () => {
    const none = authzErrorOf(() =>
      fga.listUsers({ object: "doc:1", relation: "viewer", userFilters: [] }),
    );
    expect(none.openFgaCode).toBe(2000);
    const unknown = authzErrorOf(() =>
      fga.listUsers({ object: "doc:1", relation: "viewer", userFilters: [{ type: "robot" }] }),
    );
    expect(unknown.openFgaCode).toBe(2021);
  });
});

describe("list results agree with check on Switchboard's model", () => {
  const model = compileModel(readFileSync(new URL("../model.fga", import.meta.url), "utf8"));
  const random = seeded(11);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  const users = Array.from({ length: 25 }, (_, i) => `user:u${i}`);
  const teams = Array.from({ length: 5 }, (_, i) => `team:t${i}`);
  const agents = Array.from({ length: 30 }, (_, i) => `agent:a${i}`);
  const tuples: TupleKey[] = [
    { user: "user:u0", relation: "admin", object: "platform:switchboard" },
  ];
  for (const user of users.slice(1))
    tuples.push({ user, relation: pick(["member", "member", "admin"]), object: pick(teams) });
  for (const agent of agents) {
    tuples.push({ user: "platform:switchboard", relation: "platform", object: agent });
    tuples.push({ user: pick(teams), relation: "owner_team", object: agent });
    const grantee = pick([pick(users), `${pick(teams)}#member`, "user:*"]);
    const relation =
      grantee === "user:*"
        ? pick(["runner", "viewer"])
        : pick(["owner", "editor", "runner", "viewer"]);
    tuples.push({ user: grantee, relation, object: agent });
  }
  const index = new TupleIndex();
  for (const each of tuples) index.add(each);
  const fga = new ModelEvaluator(model, index);

  it("lists exactly the agents check allows, for every user and relation", () => {
    for (const user of users) {
      for (const relation of ["owner", "editor", "runner", "viewer"]) {
        const expected = agents.filter((object) => fga.check({ user, relation, object }));
        expect(
          sorted(fga.listObjects({ user, relation, type: "agent" })),
          `${user} ${relation}`,
        ).toEqual(sorted(expected));
      }
    }
  });

  it("lists only users check allows, and every user allowed other than through user:*", () => {
    for (const object of agents) {
      for (const relation of ["owner", "runner"]) {
        const listed = fga.listUsers({ object, relation, userFilters: [{ type: "user" }] });
        for (const user of listed)
          expect(fga.check({ user, relation, object }), `${user} ${relation} ${object}`).toBe(true);
        const publicAgent = fga.check({ user: "user:*", relation, object });
        expect(listed.includes("user:*")).toBe(publicAgent);
        if (!publicAgent) {
          const expected = users.filter((user) => fga.check({ user, relation, object }));
          expect(sorted(listed), `${relation} ${object}`).toEqual(sorted(expected));
        }
      }
    }
  });
});

/** A deterministic PRNG (mulberry32), so a failure reproduces. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
