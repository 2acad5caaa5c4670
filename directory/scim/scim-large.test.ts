import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJson } from "../../test/support/http.js";
import { type ScimBackend, type ScimStack, startScimStack } from "./testing.js";

/**
 * A directory larger than one page (2,500 people): the lookups identity providers send and
 * plain pages are answered by the database, never by reading every person or team.
 */

const PEOPLE = 2_500;
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const person = (n: number) => `person${String(n).padStart(4, "0")}@big.test`;

function describeLarge(backend: ScimBackend): void {
  let scim: ScimStack;
  const list = async (path: string) => {
    const response = await scim.call("GET", path);
    expect(response.status).toBe(200);
    return readJson(response);
  };
  const filtered = (resource: string, filter: string, extra = "") =>
    list(`/${resource}?filter=${encodeURIComponent(filter)}${extra}`);

  beforeAll(async () => {
    scim = await startScimStack({ backend });
    const start = Date.UTC(2026, 0, 1);
    const rows = Array.from({ length: PEOPLE }, (_, i) => ({
      email: person(i + 1),
      // Every tenth person came from Slack: the provider never named them (userName: email).
      scim_user_name: (i + 1) % 10 === 0 ? null : person(i + 1),
      scim_external_id: `ext-${i + 1}`,
      display_name: `Person ${i + 1}`,
      created_at: new Date(start + i * 1_000),
    }));
    await scim.db.knex.batchInsert("users", rows, 500);
    for (const name of ["Platform Team", "Support", "Finance"]) {
      const created = await scim.call("POST", "/Groups", { schemas: [GROUP], displayName: name });
      expect(created.status).toBe(201);
    }
    // From here on, reading every person or team is a failure of this test.
    scim.users.listProvisioned = () => Promise.reject(new Error("read every person"));
    scim.services.registry.teams.listGroups = () => Promise.reject(new Error("read every team"));
  }, 120_000);
  afterAll(async () => {
    await scim?.close();
  });

  it("pages through everyone with startIndex and count, counting them all", async () => {
    const third = await list("/Users?startIndex=2001&count=1000");
    expect(third).toMatchObject({ totalResults: PEOPLE, startIndex: 2001, itemsPerPage: 500 });
    expect(third.Resources[0].userName).toBe(person(2001));
    expect(third.Resources.at(-1).userName).toBe(person(PEOPLE));
    const counted = await list("/Users?count=0");
    expect(counted).toMatchObject({ totalResults: PEOPLE, itemsPerPage: 0, Resources: [] });
    const past = await list(`/Users?startIndex=${PEOPLE + 1}`);
    expect(past).toMatchObject({ totalResults: PEOPLE, itemsPerPage: 0 });
  });

  it("looks people up as Okta and Entra do: userName ignoring case, externalId exactly", async () => {
    const byName = await filtered("Users", `userName eq "${person(1234).toUpperCase()}"`);
    expect(byName).toMatchObject({ totalResults: 1, itemsPerPage: 1 });
    expect(byName.Resources[0]).toMatchObject({ userName: person(1234), externalId: "ext-1234" });
    // Never named by the provider: their userName is their email.
    const byEmail = await filtered("Users", `userName eq "${person(1230)}"`);
    expect(byEmail.Resources.map((r: { id: string }) => r.id)).toHaveLength(1);
    const byExternal = await filtered("Users", 'externalId eq "ext-77"');
    expect(byExternal.Resources[0].userName).toBe(person(77));
    expect((await filtered("Users", 'externalId eq "EXT-77"')).totalResults).toBe(0);
    const byDisplay = await filtered("Users", 'displayName eq "person 42"');
    expect(byDisplay.Resources[0].userName).toBe(person(42));
    const byId = await filtered("Users", `id eq "${byName.Resources[0].id}"`);
    expect(byId.Resources[0].userName).toBe(person(1234));
    expect((await filtered("Users", 'id eq "not-a-uuid"')).totalResults).toBe(0);
    // A value that is SQL is only ever a value.
    const hostile = await filtered("Users", `userName eq "x' or '1'='1"`);
    expect(hostile).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it("looks Groups up by displayName and pages them, leaving members out when asked", async () => {
    const found = await filtered("Groups", 'displayName eq "platform team"');
    expect(found).toMatchObject({ totalResults: 1 });
    expect(found.Resources[0]).toMatchObject({ displayName: "Platform Team", members: [] });
    const lean = await filtered(
      "Groups",
      'displayName eq "Support"',
      "&excludedAttributes=members",
    );
    expect(lean.Resources[0].displayName).toBe("Support");
    expect(lean.Resources[0]).not.toHaveProperty("members");
    const second = await list("/Groups?startIndex=2&count=1");
    expect(second).toMatchObject({ totalResults: 3, itemsPerPage: 1 });
    expect(second.Resources[0].displayName).toBe("Support");
  });
}

describe("a large SCIM directory on PGlite", { timeout: 60_000 }, () => {
  describeLarge("pglite");
});

describe("a large SCIM directory on PostgreSQL", { timeout: 60_000 }, () => {
  describeLarge("postgres");
});
