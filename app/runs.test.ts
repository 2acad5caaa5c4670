import { describe, expect, it } from "vitest";
import { loadConfig } from "./config/index.js";
import { egressPolicyFor } from "./runs.js";

const DATABASE_URL = "postgres://switchboard@db.internal/switchboard";

describe("egressPolicyFor", () => {
  it("lets the embedded default on loopback reach loopback, where a developer's agents run", () => {
    for (const HOST of ["127.0.0.1", "::1", "localhost"]) {
      const policy = egressPolicyFor(loadConfig({ HOST }));
      expect(policy.permits("127.0.0.1"), HOST).toBe(true);
      expect(policy.permits("::1"), HOST).toBe(true);
      expect(policy.permits("10.0.0.1"), HOST).toBe(false);
      expect(policy.permits("169.254.169.254"), HOST).toBe(false);
    }
  });

  it("refuses loopback once Switchboard is shared: bound beyond loopback, or on PostgreSQL", () => {
    expect(egressPolicyFor(loadConfig({ HOST: "0.0.0.0" })).permits("127.0.0.1")).toBe(false);
    expect(egressPolicyFor(loadConfig({ DATABASE_URL })).permits("127.0.0.1")).toBe(false);
  });

  it("allows what RUNTIME_EGRESS_ALLOW lists, and nothing else internal", () => {
    const policy = egressPolicyFor(
      loadConfig({ DATABASE_URL, RUNTIME_EGRESS_ALLOW: "10.20.0.0/16,agents.corp.internal" }),
    );
    expect(policy.permits("10.20.1.2")).toBe(true);
    expect(policy.permits("10.99.1.2", "agents.corp.internal")).toBe(true);
    expect(policy.permits("10.99.1.2", "elsewhere.corp.internal")).toBe(false);
    expect(policy.permits("127.0.0.1")).toBe(false);
    expect(policy.permits("8.8.8.8")).toBe(true);
  });
});
