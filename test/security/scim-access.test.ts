import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCIM_TEST_TOKEN, type ScimStack, startScimStack } from "../../directory/scim/testing.js";
import { readJson } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";

/**
 * Attacks on the SCIM service: it does not exist without SCIM_TOKEN; without the right
 * token, in the Authorization header, nothing is read or changed; the token never reaches
 * the logs; hostile filters are refused or match nothing, and never touch the database.
 */
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const TOKEN = "a-real-scim-token-for-the-serve-test-0123456789";

describe("SCIM in a running `switchboard serve`", () => {
  const dirs: string[] = [];
  const processes: SwitchboardProcess[] = [];
  const serve = async (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), "switchboard-scim-serve-"));
    dirs.push(dir);
    const port = await freePort();
    const process = new SwitchboardProcess(["serve"], {
      PORT: String(port),
      SWITCHBOARD_DATA_DIR: dir,
      ...env,
    });
    processes.push(process);
    await process.waitFor(`http://127.0.0.1:${port}/readyz`);
    return { process, base: `http://127.0.0.1:${port}/scim/v2` };
  };
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("is off (404) while SCIM_TOKEN is unset, whatever token is sent", async () => {
    const { base } = await serve({});
    for (const path of ["/Users", "/ServiceProviderConfig", "/Groups"]) {
      const response = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(404);
    }
  }, 60_000);

  it("answers only the right bearer token, and never logs it", async () => {
    const { base, process } = await serve({ SCIM_TOKEN: TOKEN });
    const post = (headers: Record<string, string>, query = "") =>
      fetch(`${base}/Users${query}`, {
        method: "POST",
        headers: { "content-type": "application/scim+json", ...headers },
        body: JSON.stringify({ schemas: [USER], userName: "mallory@example.com" }),
      });
    for (const response of [
      await post({}),
      await post({ authorization: `Bearer ${TOKEN.slice(0, -1)}` }),
      await post({ authorization: `Bearer ${TOKEN}x` }),
      await post({ authorization: `Basic ${Buffer.from(`scim:${TOKEN}`).toString("base64")}` }),
      await post({ authorization: TOKEN }),
      // A token in the query string is not accepted (it would sit in access logs).
      await post({}, `?access_token=${TOKEN}`),
    ]) {
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toMatch(/^application\/scim\+json/);
      expect(await readJson(response)).toMatchObject({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "401",
      });
    }
    const list = await fetch(`${base}/Users`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await readJson(list)).totalResults).toBe(0);

    const created = await post({ authorization: `Bearer ${TOKEN}` });
    expect(created.status).toBe(201);
    // Only the query-string attempt (refused) could carry it into the request log.
    const logged = process.stdout
      .split("\n")
      .filter((line) => !line.includes("access_token="))
      .join("\n");
    expect(logged).not.toContain(TOKEN);
    expect(process.stderr).not.toContain(TOKEN);
  }, 60_000);
});

describe("SCIM with hostile input", () => {
  let scim: ScimStack;
  let ada: string;
  beforeAll(async () => {
    scim = await startScimStack({ backend: "pglite" });
    const created = await scim.call("POST", "/Users", {
      schemas: [USER],
      userName: "ada@example.com",
      emails: [{ value: "ada@example.com", primary: true }],
    });
    ada = (await readJson(created)).id;
  }, 60_000);
  afterAll(async () => {
    await scim?.close();
  });

  it("a wrong token changes nothing", async () => {
    const response = await fetch(`${scim.base}/Users/${ada}`, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${SCIM_TEST_TOKEN.toUpperCase()}`,
        "content-type": "application/scim+json",
      },
      body: JSON.stringify({
        schemas: [PATCH],
        Operations: [{ op: "replace", value: { active: false } }],
      }),
    });
    expect(response.status).toBe(401);
    expect((await scim.users.findByEmail("ada@example.com"))?.isActive).toBe(true);
  });

  it.each([
    `userName eq "x" or "1" eq "1"`,
    `userName eq "x\\" or 1=1 --"`,
    `userName eq "'; drop table users; --"`,
    `userName eq 'ada@example.com'`,
    `userName eq ada@example.com`,
    `userName[ eq "a"]`,
    `__proto__.polluted eq "x"`,
    `constructor.prototype eq "x"`,
    `${"(".repeat(500)}userName eq "a"${")".repeat(500)}`,
    `userName eq "${"a".repeat(5_000)}"`,
    `userName eq "\u0000"`,
    `emails[type eq "work" or 1].value eq "x"`,
  ])("refuses or matches nothing for the filter %#", async (filter) => {
    const response = await scim.call("GET", `/Users?filter=${encodeURIComponent(filter)}`);
    if (response.status === 200) {
      expect((await readJson(response)).totalResults).toBe(0);
    } else {
      expect(response.status).toBe(400);
      const body = await readJson(response);
      expect(body.scimType).toBe("invalidFilter");
      // The caller's text is not echoed back.
      expect(body.detail).not.toContain("drop table");
      expect(body.detail.length).toBeLessThan(200);
    }
    expect((await scim.users.findByEmail("ada@example.com"))?.isActive).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a PATCH cannot pollute prototypes or set what the provider does not own", async () => {
    const patch = (Operations: unknown[]) =>
      scim.call("PATCH", `/Users/${ada}`, { schemas: [PATCH], Operations });
    for (const Operations of [
      [{ op: "add", path: "__proto__", value: { isAdmin: true } }],
      [{ op: "replace", value: JSON.parse('{"__proto__": {"isAdmin": true}}') }],
      [{ op: "add", path: "constructor.prototype", value: { isAdmin: true } }],
    ]) {
      const response = await patch(Operations);
      expect([200, 400]).toContain(response.status);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    }
    const response = await patch([
      {
        op: "replace",
        value: { id: "00000000-0000-4000-8000-000000000000", "meta.created": "1999" },
      },
    ]);
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body.id).toBe(ada);
    expect(body.meta.created).not.toBe("1999");
  });

  it("refuses a body too large, and JSON that is not an object", async () => {
    const huge = await scim.call("POST", "/Users", {
      schemas: [USER],
      userName: "a".repeat(2_000_000),
    });
    expect(huge.status).toBe(413);
    const array = await scim.call("POST", "/Users", "[1,2,3]");
    expect(array.status).toBe(400);
    expect((await readJson(array)).scimType).toBe("invalidSyntax");
  });
});
