import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJson } from "../../test/support/http.js";
import { describeWithOpenFga } from "../../test/support/openfga-server.js";
import { SCIM_TEST_TOKEN, type ScimBackend, type ScimStack, startScimStack } from "./testing.js";

/**
 * SCIM Users as Okta and Microsoft Entra provisioning send them (their documented payloads),
 * and a compliance-style pass over the Users endpoints: status codes, schemas, filters,
 * paging and errors in SCIM's error schema.
 */
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/** Okta's documented create (SCIM 2.0 reference: "Create the user"). */
const oktaUser = (userName: string) => ({
  schemas: [USER],
  userName,
  name: { givenName: "Test", familyName: "User" },
  emails: [{ primary: true, value: userName, type: "work" }],
  displayName: "Test User",
  locale: "en-US",
  externalId: "00ujl29u0le5T6Aj10h7",
  groups: [],
  password: "1mz050nq",
  active: true,
});

/** Entra's documented create: userName need not be an email; the work email is. */
const entraUser = (userName: string, email: string) => ({
  schemas: [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
  userName,
  active: true,
  emails: [{ primary: true, type: "work", value: email }],
  meta: { resourceType: "User" },
  name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
  roles: [],
});

function describeUsers(backend: ScimBackend, openFgaUrl: () => string | undefined): void {
  let scim: ScimStack;
  beforeAll(async () => {
    scim = await startScimStack({ backend, openFgaUrl: openFgaUrl() });
  }, 60_000);
  afterAll(async () => {
    await scim?.close();
  });

  const expectError = async (response: Response, status: number, scimType?: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toMatch(/^application\/scim\+json/);
    const body = await readJson(response);
    expect(body.schemas).toEqual([ERROR]);
    expect(body.status).toBe(String(status));
    if (scimType) expect(body.scimType).toBe(scimType);
    expect(typeof body.detail).toBe("string");
    return body;
  };

  it("Okta: finds no one, creates the user, finds them by userName, deactivates them", async () => {
    const lookup = await scim.call(
      "GET",
      `/Users?filter=${encodeURIComponent('userName eq "test.user@okta.local"')}&startIndex=1&count=100`,
    );
    expect(lookup.status).toBe(200);
    expect(await readJson(lookup)).toEqual({
      schemas: [LIST],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });

    const created = await scim.call("POST", "/Users", oktaUser("test.user@okta.local"));
    expect(created.status).toBe(201);
    expect(created.headers.get("content-type")).toMatch(/^application\/scim\+json/);
    const user = await readJson(created);
    expect(created.headers.get("location")).toBe(`${scim.base}/Users/${user.id}`);
    expect(user).toMatchObject({
      schemas: [USER],
      userName: "test.user@okta.local",
      externalId: "00ujl29u0le5T6Aj10h7",
      displayName: "Test User",
      name: { givenName: "Test", familyName: "User" },
      active: true,
      emails: [{ value: "test.user@okta.local", type: "work", primary: true }],
      meta: { resourceType: "User", location: `${scim.base}/Users/${user.id}` },
    });
    expect(user).not.toHaveProperty("password");

    // Okta looks again with other capitalisation: userName ignores case.
    const found = await readJson(
      await scim.call(
        "GET",
        `/Users?filter=${encodeURIComponent('userName eq "Test.User@OKTA.local"')}`,
      ),
    );
    expect(found.totalResults).toBe(1);
    expect(found.Resources[0].id).toBe(user.id);

    const deactivated = await scim.call("PATCH", `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    expect(deactivated.status).toBe(200);
    expect((await readJson(deactivated)).active).toBe(false);
    expect((await scim.users.findByEmail("test.user@okta.local"))?.isActive).toBe(false);

    // Okta reactivates the same way.
    const back = await scim.call("PATCH", `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: "replace", value: { active: true } }],
    });
    expect((await readJson(back)).active).toBe(true);
    expect((await scim.users.findByEmail("test.user@okta.local"))?.isActive).toBe(true);

    // Okta's profile push is a PUT of the whole user.
    const put = await scim.call("PUT", `/Users/${user.id}`, {
      ...oktaUser("test.user@okta.local"),
      id: user.id,
      name: { givenName: "Another", familyName: "User" },
      displayName: "Another User",
    });
    expect(put.status).toBe(200);
    expect(await readJson(put)).toMatchObject({
      displayName: "Another User",
      name: { givenName: "Another" },
    });
  });

  it("Entra: capitalised ops, string booleans, filtered paths, externalId lookups", async () => {
    const created = await scim.call(
      "POST",
      "/Users",
      entraUser(
        "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "Test_User_fd0ea19b@testuser.com",
      ),
    );
    expect(created.status).toBe(201);
    const user = await readJson(created);
    // Switchboard knows people by email: the work email, lower-cased, is the person.
    expect(user.emails).toEqual([
      { value: "test_user_fd0ea19b@testuser.com", type: "work", primary: true },
    ]);
    expect(user.userName).toBe("Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1");

    const byExternalId = await readJson(
      await scim.call(
        "GET",
        `/Users?filter=${encodeURIComponent('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')}`,
      ),
    );
    expect(byExternalId.Resources.map((r: { id: string }) => r.id)).toEqual([user.id]);
    const byEmail = await readJson(
      await scim.call(
        "GET",
        `/Users?filter=${encodeURIComponent('emails[type eq "work"].value eq "TEST_USER_fd0ea19b@testuser.com"')}`,
      ),
    );
    expect(byEmail.Resources.map((r: { id: string }) => r.id)).toEqual([user.id]);

    const patched = await scim.call("PATCH", `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: "Replace", path: "name.familyName", value: "updatedFamilyName" },
        {
          op: "Add",
          path: 'emails[type eq "work"].value',
          value: "test_user_fd0ea19b@testuser.com",
        },
        { op: "Replace", path: "displayName", value: "Updated Name" },
        {
          op: "Add",
          path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
          value: "Eng",
        },
      ],
    });
    expect(patched.status).toBe(200);
    expect(await readJson(patched)).toMatchObject({
      displayName: "Updated Name",
      name: { familyName: "updatedFamilyName", givenName: "givenName" },
    });

    const disabled = await scim.call("PATCH", `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: "Replace", path: "active", value: "False" }],
    });
    expect(disabled.status).toBe(200);
    expect((await readJson(disabled)).active).toBe(false);
    const enabled = await scim.call("PATCH", `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: "Replace", path: "active", value: "True" }],
    });
    expect((await readJson(enabled)).active).toBe(true);
  });

  it("adopts a person who came from Slack before the identity provider was connected", async () => {
    const slackPerson = await scim.users.ensureUser("grace@example.com", "Grace");
    const created = await scim.call("POST", "/Users", oktaUser("grace@example.com"));
    expect(created.status).toBe(201);
    expect((await readJson(created)).id).toBe(slackPerson.id);
  });

  it("refuses a duplicate userName with 409 uniqueness, and changes nothing", async () => {
    await expectError(
      await scim.call("POST", "/Users", oktaUser("test.user@okta.local")),
      409,
      "uniqueness",
    );
    const other = await readJson(await scim.call("POST", "/Users", oktaUser("dup.one@okta.local")));
    const taken = await scim.call("PUT", `/Users/${other.id}`, oktaUser("TEST.USER@okta.local"));
    await expectError(taken, 409, "uniqueness");
    expect((await readJson(await scim.call("GET", `/Users/${other.id}`))).userName).toBe(
      "dup.one@okta.local",
    );
  });

  it("answers bad input in SCIM's error schema", async () => {
    await expectError(await scim.call("POST", "/Users", "{ not json"), 400, "invalidSyntax");
    await expectError(await scim.call("POST", "/Users", { schemas: [USER] }), 400, "invalidValue");
    await expectError(
      await scim.call("POST", "/Users", { schemas: [USER], userName: "no-email-here" }),
      400,
      "invalidValue",
    );
    await expectError(
      await scim.call("GET", `/Users?filter=${encodeURIComponent("userName eq")}`),
      400,
      "invalidFilter",
    );
    await expectError(
      await scim.call("GET", `/Users?filter=${encodeURIComponent('userName zz "a"')}`),
      400,
      "invalidFilter",
    );
    await expectError(await scim.call("GET", "/Users?count=many"), 400, "invalidValue");
    const someone = await readJson(
      await scim.call("POST", "/Users", oktaUser("patcher@okta.local")),
    );
    await expectError(
      await scim.call("PATCH", `/Users/${someone.id}`, {
        schemas: [PATCH],
        Operations: [{ op: "move", path: "active" }],
      }),
      400,
      "invalidSyntax",
    );
    await expectError(
      await scim.call("PATCH", `/Users/${someone.id}`, {
        Operations: [{ op: "replace", value: { active: false } }],
      }),
      400,
      "invalidSyntax",
    );
    await expectError(
      await scim.call("PATCH", `/Users/${someone.id}`, {
        schemas: [PATCH],
        Operations: [{ op: "replace", path: "active", value: "maybe" }],
      }),
      400,
      "invalidValue",
    );
  });

  it("answers 404 for an unknown id, on every verb", async () => {
    const unknown = "6f1c1f7e-0000-4000-8000-000000000000";
    await expectError(await scim.call("GET", `/Users/${unknown}`), 404);
    await expectError(await scim.call("GET", "/Users/not-a-uuid"), 404);
    await expectError(
      await scim.call("PUT", `/Users/${unknown}`, oktaUser("ghost@okta.local")),
      404,
    );
    await expectError(
      await scim.call("PATCH", `/Users/${unknown}`, {
        schemas: [PATCH],
        Operations: [{ op: "replace", value: { active: false } }],
      }),
      404,
    );
    await expectError(await scim.call("DELETE", `/Users/${unknown}`), 404);
    await expectError(await scim.call("GET", "/Nope"), 404);
  });

  it("pages with startIndex and count, and counts every match", async () => {
    for (const n of [1, 2, 3, 4, 5]) {
      await scim.call("POST", "/Users", oktaUser(`pager${n}@paging.test`));
    }
    const filter = encodeURIComponent('userName sw "pager"');
    const first = await readJson(
      await scim.call("GET", `/Users?filter=${filter}&startIndex=1&count=2`),
    );
    expect(first).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 2 });
    const second = await readJson(
      await scim.call("GET", `/Users?filter=${filter}&startIndex=3&count=2`),
    );
    const last = await readJson(
      await scim.call("GET", `/Users?filter=${filter}&startIndex=5&count=2`),
    );
    const names = [...first.Resources, ...second.Resources, ...last.Resources].map(
      (r: { userName: string }) => r.userName,
    );
    expect(names).toEqual([1, 2, 3, 4, 5].map((n) => `pager${n}@paging.test`));
    const none = await readJson(await scim.call("GET", `/Users?filter=${filter}&count=0`));
    expect(none).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    const clamped = await readJson(
      await scim.call("GET", `/Users?filter=${filter}&startIndex=-4&count=1`),
    );
    expect(clamped).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
  });

  it("deletes a person: 204, then 404, and they are refused everywhere", async () => {
    const user = await readJson(await scim.call("POST", "/Users", oktaUser("leaver@okta.local")));
    const deleted = await scim.call("DELETE", `/Users/${user.id}`);
    expect(deleted.status).toBe(204);
    await expectError(await scim.call("GET", `/Users/${user.id}`), 404);
    expect((await scim.users.findByEmail("leaver@okta.local"))?.isActive).toBe(false);
    // Provisioned again later: the same person, active.
    const again = await scim.call("POST", "/Users", oktaUser("leaver@okta.local"));
    expect(again.status).toBe(201);
    expect((await readJson(again)).id).toBe(user.id);
  });

  it("describes itself: ServiceProviderConfig, ResourceTypes, Schemas", async () => {
    const config = await readJson(await scim.call("GET", "/ServiceProviderConfig"));
    expect(config).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      patch: { supported: true },
      filter: { supported: true },
      bulk: { supported: false },
      authenticationSchemes: [{ type: "oauthbearertoken" }],
    });
    const types = await readJson(await scim.call("GET", "/ResourceTypes"));
    expect(types.Resources.map((t: { endpoint: string }) => t.endpoint)).toEqual([
      "/Users",
      "/Groups",
    ]);
    expect((await scim.call("GET", "/ResourceTypes/User")).status).toBe(200);
    const schemas = await readJson(await scim.call("GET", "/Schemas"));
    expect(schemas.Resources.map((s: { id: string }) => s.id)).toEqual([
      USER,
      "urn:ietf:params:scim:schemas:core:2.0:Group",
    ]);
    expect((await scim.call("GET", `/Schemas/${USER}`)).status).toBe(200);
    await expectError(await scim.call("GET", "/Schemas/urn:nope"), 404);
  });

  it("answers 401 without the token, and changes nothing", async () => {
    const response = await fetch(`${scim.base}/Users`, {
      method: "POST",
      headers: {
        "content-type": "application/scim+json",
        authorization: `Bearer ${SCIM_TEST_TOKEN}x`,
      },
      body: JSON.stringify(oktaUser("intruder@okta.local")),
    });
    await expectError(response, 401);
    expect(await scim.users.findByEmail("intruder@okta.local")).toBeUndefined();
  });
}

describe("SCIM Users on PGlite with the embedded evaluator", () => {
  describeUsers("pglite", () => undefined);
});

describeWithOpenFga("SCIM Users on PostgreSQL with an OpenFGA server", (openFga) => {
  describeUsers("postgres", () => openFga().url);
});
