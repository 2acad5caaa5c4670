import { describe, expect, it } from "vitest";
import { AccessPolicy } from "./access-policy.js";
import type { Authorizer } from "./authorizer.js";
import { AuthzError, compileModel, ModelEvaluator, TupleIndex } from "./embedded/index.js";
import { loadPolicyModel } from "./policy-model.js";
import type { Principal, UserPrincipal } from "./principal.js";

/** An Authorizer over an in-memory index, with a switch that makes it fail or hang. */
function memoryAuthorizer(tuples: { user: string; relation: string; object: string }[]) {
  const index = new TupleIndex();
  for (const tuple of tuples) index.add(tuple);
  const evaluator = new ModelEvaluator(compileModel(loadPolicyModel()), index);
  const state = { mode: "up" as "up" | "down" | "hung" };
  const gate = async () => {
    if (state.mode === "down") throw new Error("connect ECONNREFUSED 127.0.0.1:8080");
    if (state.mode === "hung") await new Promise(() => {});
  };
  const authorizer: Authorizer = {
    backend: "embedded",
    check: async (request) => {
      await gate();
      return evaluator.check(request);
    },
    batchCheck: async (request) => {
      await gate();
      return evaluator.batchCheck(request);
    },
    listObjects: async (request) => {
      await gate();
      return evaluator.listObjects(request);
    },
    listUsers: async (request) => {
      await gate();
      return evaluator.listUsers(request);
    },
    write: async () => {},
    read: async () => [],
    ping: gate,
    close: async () => {},
  };
  return { authorizer, state };
}

const ada: UserPrincipal = { kind: "user", userId: "u-ada", email: "Ada@Example.com", via: "site" };
const bob: UserPrincipal = {
  kind: "user",
  userId: "u-bob",
  email: "bob@example.com",
  via: "slack",
};
const system: Principal = { kind: "system", name: "bootstrap" };

describe("AccessPolicy", () => {
  const { authorizer, state } = memoryAuthorizer([
    { user: "user:ada@example.com", relation: "runner", object: "agent:triage" },
    { user: "user:*", relation: "viewer", object: "agent:faq" },
  ]);
  const policy = new AccessPolicy(authorizer, 100);

  it("answers for the person by their email, whatever its case", async () => {
    expect(await policy.can(ada, "runner", "agent:triage")).toBe(true);
    expect(await policy.can(bob, "runner", "agent:triage")).toBe(false);
  });

  it("filters a page in order and lists what a person may see", async () => {
    expect(
      await policy.filter(bob, "viewer", ["agent:triage", "agent:faq", "agent:other"]),
    ).toEqual(["agent:faq"]);
    expect((await policy.list(ada, "viewer", "agent")).sort()).toEqual([
      "agent:faq",
      "agent:triage",
    ]);
  });

  it("denies by default: a principal that is not a person gets nothing", async () => {
    expect(await policy.can(system, "viewer", "agent:faq")).toBe(false);
    expect(await policy.filter(system, "viewer", ["agent:faq"])).toEqual([]);
  });

  it("refuses with 403 and the caller's words, or as 404 for what the person may not know of", async () => {
    await expect(
      policy.require(bob, "runner", "agent:triage", {
        message: "You may not run Triage. Ask team:platform.",
      }),
    ).rejects.toMatchObject({
      code: "forbidden",
      status: 403,
      message: "You may not run Triage. Ask team:platform.",
    });
    await expect(
      policy.require(bob, "viewer", "agent:triage", {
        message: 'Agent "triage" was not found.',
        hidden: true,
      }),
    ).rejects.toMatchObject({ code: "not_found", status: 404 });
    await expect(
      policy.require(ada, "runner", "agent:triage", { message: "no" }),
    ).resolves.toBeUndefined();
  });

  it("denies when the authorizer is down or slow, saying access could not be checked", async () => {
    for (const mode of ["down", "hung"] as const) {
      state.mode = mode;
      await expect(policy.can(ada, "runner", "agent:triage")).rejects.toMatchObject({
        code: "authz_unavailable",
        status: 503,
        message:
          "Access could not be checked right now, so it was not granted. Try again in a moment.",
      });
      await expect(policy.filter(ada, "viewer", ["agent:faq"])).rejects.toMatchObject({
        code: "authz_unavailable",
      });
    }
    state.mode = "up";
  });

  it("passes a malformed question through as the model's own error", async () => {
    await expect(policy.can(ada, "launcher", "agent:triage")).rejects.toBeInstanceOf(AuthzError);
  });
});
