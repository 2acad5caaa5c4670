import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessPolicy } from "../authz/index.js";
import { DEMO_MANIFEST, validateManifest } from "../directory/index.js";
import { type ScimBackend, type ScimStack, startScimStack } from "../directory/scim/testing.js";
import type { RunEngine, RunsService } from "../sessions/index.js";
import { readJson } from "./support/http.js";
import { startInProcessRuns } from "./support/in-process-runs.js";
import { describeWithOpenFga } from "./support/openfga-server.js";

/**
 * Deactivated by the identity provider, a person loses access at once: their site
 * sessions end, their API keys are refused (and stay revoked), they leave their teams, and
 * no run starts for them, even with a principal a surface still holds. Reactivation
 * restores the person, not those grants.
 */
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

function describeDeactivation(backend: ScimBackend, openFgaUrl: () => string | undefined): void {
  let scim: ScimStack;
  let runs: RunsService;
  let engine: RunEngine;
  beforeAll(async () => {
    scim = await startScimStack({ backend, openFgaUrl: openFgaUrl() });
    await scim.services.registry.apply(validateManifest(DEMO_MANIFEST), { actor: "system:test" });
    ({ runs, engine } = await startInProcessRuns({
      knex: scim.db.knex,
      access: new AccessPolicy(scim.authorizer, 5_000),
      registry: scim.services.registry,
    }));
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await scim?.close();
  });

  const active = (id: string, value: unknown, op = "replace") =>
    scim.call("PATCH", `/Users/${id}`, {
      schemas: [PATCH],
      Operations:
        op === "replace" ? [{ op, value: { active: value } }] : [{ op, path: "active", value }],
    });

  it.each([
    ["Okta", (id: string) => active(id, false)],
    ["Entra", (id: string) => active(id, "False", "Replace")],
  ])("%s deactivation ends sessions, keys, teams and runs at once", async (vendor, deactivate) => {
    const email = `${vendor.toLowerCase()}.leaver@example.com`;
    const user = await readJson(
      await scim.call("POST", "/Users", {
        schemas: [USER],
        userName: email,
        emails: [{ value: email, type: "work", primary: true }],
      }),
    );
    await scim.call("POST", "/Groups", {
      schemas: [GROUP],
      displayName: `${vendor} Team`,
      members: [{ value: user.id }],
    });
    const slug = `${vendor.toLowerCase()}-team`;
    const key = await scim.services.keys.create(
      { userId: user.id, userEmail: email },
      "system:test",
    );
    const site = await scim.services.siteSessions.start({ userId: user.id, method: "oidc" });
    const principal = await scim.services.keys.authenticate(key.key);
    const before = await runs.start(principal, { agentName: "demo", input: "hello" });
    expect(before.created).toBe(true);

    expect((await deactivate(user.id)).status).toBe(200);

    await expect(scim.services.keys.authenticate(key.key)).rejects.toMatchObject({ status: 401 });
    expect(await scim.services.siteSessions.find(site.token)).toBeUndefined();
    expect(
      await scim.authorizer.check(
        { user: `user:${email}`, relation: "member", object: `team:${slug}` },
        { fresh: true },
      ),
    ).toBe(false);
    expect(await scim.services.memberships.members(slug)).toEqual([]);
    // A principal a surface obtained before the deactivation starts nothing.
    await expect(
      runs.start(principal, { agentName: "demo", input: "again" }),
    ).rejects.toMatchObject({
      code: "user_deactivated",
      status: 403,
    });

    // Reactivated: the person is back, not their key or their team.
    const back = await scim.call("PATCH", `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: "replace", value: { active: true } }],
    });
    expect((await readJson(back)).active).toBe(true);
    await expect(scim.services.keys.authenticate(key.key)).rejects.toMatchObject({ status: 401 });
    expect(
      await scim.authorizer.check(
        { user: `user:${email}`, relation: "member", object: `team:${slug}` },
        { fresh: true },
      ),
    ).toBe(false);
    const fresh = await scim.services.keys.create(
      { userId: user.id, userEmail: email },
      "system:test",
    );
    const again = await runs.start(await scim.services.keys.authenticate(fresh.key), {
      agentName: "demo",
      input: "I am back",
    });
    expect(again.created).toBe(true);
  });

  it("records the deactivation in the audit log, without the token", async () => {
    const rows = (await scim.db.knex("audit_log").where({ action: "user.deactivated" })) as {
      actor: string;
      details: unknown;
    }[];
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r.actor === "system:scim")).toBe(true);
    expect(JSON.stringify(rows)).not.toContain("scim-test-token");
  });
}

describe("deactivation by SCIM on PGlite with the embedded evaluator", () => {
  describeDeactivation("pglite", () => undefined);
});

describeWithOpenFga("deactivation by SCIM on PostgreSQL with an OpenFGA server", (openFga) => {
  describeDeactivation("postgres", () => openFga().url);
});
