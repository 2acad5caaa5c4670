import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJson } from "../../test/support/http.js";
import { describeWithOpenFga } from "../../test/support/openfga-server.js";
import { type ScimBackend, type ScimStack, startScimStack } from "./testing.js";

/**
 * SCIM Groups map to teams: Okta's and Entra's documented group pushes keep
 * `team:SLUG#member` in step, a manual membership survives every SCIM change, and each
 * membership records where it came from.
 */
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

function describeGroups(backend: ScimBackend, openFgaUrl: () => string | undefined): void {
  let scim: ScimStack;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    scim = await startScimStack({
      backend,
      openFgaUrl: openFgaUrl(),
      groupMap: { "Platform Engineering": "platform" },
    });
    for (const name of ["ada", "bob", "carol", "dan"]) {
      const email = `${name}@example.com`;
      const response = await scim.call("POST", "/Users", {
        schemas: [USER],
        userName: email,
        emails: [{ value: email, type: "work", primary: true }],
        displayName: name,
      });
      ids[name] = (await readJson(response)).id;
    }
  }, 60_000);
  afterAll(async () => {
    await scim?.close();
  });

  const isMember = (name: string, slug: string) =>
    scim.authorizer.check(
      { user: `user:${name}@example.com`, relation: "member", object: `team:${slug}` },
      { fresh: true },
    );
  const sourcesIn = async (slug: string) =>
    Object.fromEntries(
      (await scim.services.memberships.members(slug)).map((m) => [m.email, m.sources]),
    );

  it("Okta: pushes a group with members; the team's slug comes from its name", async () => {
    const created = await scim.call("POST", "/Groups", {
      schemas: [GROUP],
      displayName: "Test SCIMv2  (EU)!",
      members: [{ value: ids.ada, display: "ada@example.com" }],
    });
    expect(created.status).toBe(201);
    const group = await readJson(created);
    expect(group).toMatchObject({
      schemas: [GROUP],
      displayName: "Test SCIMv2  (EU)!",
      members: [{ value: ids.ada, display: "ada" }],
      meta: { resourceType: "Group", location: `${scim.base}/Groups/${group.id}` },
    });
    expect(await isMember("ada", "test-scimv2-eu")).toBe(true);

    // Okta adds, removes by value filter, and renames with a path-less replace.
    const patch = (Operations: unknown[]) =>
      scim.call("PATCH", `/Groups/${group.id}`, { schemas: [PATCH], Operations });
    expect(
      (
        await patch([
          { op: "add", path: "members", value: [{ value: ids.bob, display: "bob@example.com" }] },
        ])
      ).status,
    ).toBe(200);
    expect(await isMember("bob", "test-scimv2-eu")).toBe(true);
    await patch([{ op: "remove", path: `members[value eq "${ids.ada}"]` }]);
    expect(await isMember("ada", "test-scimv2-eu")).toBe(false);
    const renamed = await readJson(
      await patch([{ op: "replace", value: { id: group.id, displayName: "Test SCIMv2 renamed" } }]),
    );
    expect(renamed.displayName).toBe("Test SCIMv2 renamed");
    // The slug stays: grants and manifests name the team by it.
    expect(await isMember("bob", "test-scimv2-eu")).toBe(true);

    const listed = await readJson(
      await scim.call(
        "GET",
        `/Groups?filter=${encodeURIComponent('displayName eq "test scimv2 RENAMED"')}`,
      ),
    );
    expect(listed.Resources.map((g: { id: string }) => g.id)).toEqual([group.id]);
  });

  it("Entra: creates by externalId, Add and Remove with value lists, excludedAttributes=members", async () => {
    const created = await scim.call("POST", "/Groups", {
      schemas: [GROUP],
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      displayName: "Platform Engineering",
      meta: { resourceType: "Group" },
    });
    expect(created.status).toBe(201);
    const group = await readJson(created);
    const lookup = await readJson(
      await scim.call(
        "GET",
        `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "Platform Engineering"')}`,
      ),
    );
    expect(lookup.totalResults).toBe(1);
    expect(lookup.Resources[0]).not.toHaveProperty("members");

    const patch = (Operations: unknown[]) =>
      scim.call("PATCH", `/Groups/${group.id}`, { schemas: [PATCH], Operations });
    await patch([
      {
        op: "Add",
        path: "members",
        value: [
          { $ref: null, value: ids.carol },
          { $ref: null, value: ids.dan },
        ],
      },
    ]);
    // SCIM_GROUP_MAP names this group's team.
    expect(await isMember("carol", "platform")).toBe(true);
    expect(await isMember("dan", "platform")).toBe(true);
    await patch([{ op: "Remove", path: "members", value: [{ $ref: null, value: ids.dan }] }]);
    expect(await isMember("dan", "platform")).toBe(false);
    expect(await isMember("carol", "platform")).toBe(true);
    await patch([{ op: "Replace", path: "displayName", value: "Platform Engineering (new)" }]);
    expect((await readJson(await scim.call("GET", `/Groups/${group.id}`))).displayName).toBe(
      "Platform Engineering (new)",
    );
  });

  it("never removes a membership added by hand; records where each came from", async () => {
    const created = await readJson(
      await scim.call("POST", "/Groups", { schemas: [GROUP], displayName: "Design" }),
    );
    // A team admin added Ada by hand (the tuple `switchboard authz grant` writes).
    await scim.authorizer.write([
      { user: "user:ada@example.com", relation: "member", object: "team:design" },
    ]);
    await scim.call("PUT", `/Groups/${created.id}`, {
      schemas: [GROUP],
      displayName: "Design",
      members: [{ value: ids.ada }, { value: ids.bob }],
    });
    expect(await sourcesIn("design")).toEqual({
      "ada@example.com": ["manual", "scim"],
      "bob@example.com": ["scim"],
    });
    // The identity provider drops everyone: Ada stays, by hand.
    await scim.call("PUT", `/Groups/${created.id}`, {
      schemas: [GROUP],
      displayName: "Design",
      members: [],
    });
    expect(await isMember("ada", "design")).toBe(true);
    expect(await isMember("bob", "design")).toBe(false);
    expect(await sourcesIn("design")).toEqual({ "ada@example.com": ["manual"] });
    // The Group's members are the ones SCIM manages.
    expect((await readJson(await scim.call("GET", `/Groups/${created.id}`))).members).toEqual([]);
  });

  it("deletes a group: its SCIM members leave the team, the team stays; 404 after", async () => {
    const group = await readJson(
      await scim.call("POST", "/Groups", {
        schemas: [GROUP],
        displayName: "Sales",
        members: [{ value: ids.carol }],
      }),
    );
    expect(await isMember("carol", "sales")).toBe(true);
    expect((await scim.call("DELETE", `/Groups/${group.id}`)).status).toBe(204);
    expect(await isMember("carol", "sales")).toBe(false);
    expect((await scim.call("GET", `/Groups/${group.id}`)).status).toBe(404);
    expect(await scim.services.registry.teams.findBySlug("sales")).toBeDefined();
  });

  it("refuses what it cannot map, in SCIM's words", async () => {
    const noSlug = await scim.call("POST", "/Groups", { schemas: [GROUP], displayName: "!!!" });
    expect(noSlug.status).toBe(400);
    expect((await readJson(noSlug)).scimType).toBe("invalidValue");
    const twice = await scim.call("POST", "/Groups", { schemas: [GROUP], displayName: "DESIGN" });
    expect(twice.status).toBe(409);
    expect((await readJson(twice)).scimType).toBe("uniqueness");
    const ghost = await scim.call("POST", "/Groups", {
      schemas: [GROUP],
      displayName: "Ghosts",
      members: [{ value: "6f1c1f7e-0000-4000-8000-000000000000" }],
    });
    expect(ghost.status).toBe(400);
    expect((await scim.call("GET", "/Groups/6f1c1f7e-0000-4000-8000-000000000000")).status).toBe(
      404,
    );
    expect((await scim.call("DELETE", "/Groups/nope")).status).toBe(404);
  });
}

describe("SCIM Groups on PGlite with the embedded evaluator", () => {
  describeGroups("pglite", () => undefined);
});

describeWithOpenFga("SCIM Groups on PostgreSQL with an OpenFGA server", (openFga) => {
  describeGroups("postgres", () => openFga().url);
});
