import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OidcProviderDouble, type SignInScenario } from "../doubles/oidc-provider.js";
import { readJson } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";

/**
 * Teams from the identity provider, end to end in a real `switchboard serve`: SCIM pushes
 * people and a group, OIDC sign-in's groups claim adds and removes the person's OIDC
 * memberships at each sign-in, a team admin adds someone by hand, and the team page shows
 * who is in the team and where each membership came from. A person deactivated by SCIM
 * cannot sign in.
 */
class Browser {
  private readonly jar = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
      redirect: "manual",
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const at = pair.indexOf("=");
      const gone = attributes.some((a) => a.trim().toLowerCase() === "max-age=0");
      if (gone) this.jar.delete(pair.slice(0, at).trim());
      else this.jar.set(pair.slice(0, at).trim(), pair.slice(at + 1));
    }
    return response;
  }
}

const CLIENT = { clientId: "switchboard-site", clientSecret: "s3cret-of-the-site" };
const TOKEN = "scim-token-for-the-team-page-test-0123456789";
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

describe("teams from the identity provider on switchboard serve", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-teams-"));
  let server: SwitchboardProcess;
  let provider: OidcProviderDouble;
  let base: string;
  const ids: Record<string, string> = {};

  const scim = (method: string, path: string, body?: unknown) =>
    fetch(`${base}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/scim+json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    const port = await freePort();
    provider = await OidcProviderDouble.start(CLIENT);
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      PORT: String(port),
      PUBLIC_URL: base,
      OIDC_ISSUER_URL: provider.issuer,
      OIDC_CLIENT_ID: CLIENT.clientId,
      OIDC_CLIENT_SECRET: CLIENT.clientSecret,
      OIDC_GROUPS_CLAIM: "groups",
      SCIM_TOKEN: TOKEN,
      SCIM_GROUP_MAP: JSON.stringify({ "Platform Engineering": "platform" }),
      SWITCHBOARD_ADMINS: "root@example.com",
    });
    await server.waitFor(`${base}/readyz`);
    for (const name of ["ada", "bob"]) {
      const email = `${name}@example.com`;
      const created = await scim("POST", "/Users", {
        schemas: [USER],
        userName: email,
        emails: [{ value: email, type: "work", primary: true }],
        displayName: name === "ada" ? "Ada Lovelace" : "Bob",
      });
      ids[name] = (await readJson(created)).id;
    }
    const design = await scim("POST", "/Groups", {
      schemas: [GROUP],
      displayName: "Design",
      members: [{ value: ids.ada }],
    });
    ids.design = (await readJson(design)).id;
    await scim("POST", "/Groups", {
      schemas: [GROUP],
      displayName: "<script>alert(1)</script> Eng",
      members: [{ value: ids.ada }],
    });
  }, 90_000);

  afterEach(() => {
    expect(provider.unexpected).toEqual([]);
  });

  afterAll(async () => {
    await server?.kill();
    await provider?.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function signIn(browser: Browser, scenario: SignInScenario): Promise<Response> {
    const start = await browser.request(`${base}/auth/oidc?next=/`);
    provider.next = scenario;
    const authorize = await browser.request(start.headers.get("location") ?? "");
    return browser.request(authorize.headers.get("location") ?? "");
  }

  const page = async (browser: Browser, path: string) => {
    const response = await browser.request(`${base}${path}`);
    return { status: response.status, text: await response.text() };
  };

  it("adds and removes OIDC memberships at each sign-in, beside SCIM's", async () => {
    const ada = new Browser();
    const done = await signIn(ada, {
      claims: {
        email: "ada@example.com",
        sub: "ada-1",
        groups: ["Design", "Platform Engineering"],
      },
    });
    expect(done.status).toBe(303);
    const design = await page(ada, "/teams/design");
    expect(design.status).toBe(200);
    expect(design.text).toContain("Ada Lovelace");
    expect(design.text).toContain("Identity provider (SCIM), Sign-in groups (OIDC)");
    const platform = await page(ada, "/teams/platform");
    expect(platform.status).toBe(200);
    expect(platform.text).toContain("Sign-in groups (OIDC)");

    // The next sign-in no longer lists Platform Engineering: Ada leaves that team only.
    await signIn(ada, { claims: { email: "ada@example.com", sub: "ada-1", groups: ["Design"] } });
    expect((await page(ada, "/teams/platform")).status).toBe(404);
    expect((await page(ada, "/teams/design")).text).toContain(
      "Identity provider (SCIM), Sign-in groups (OIDC)",
    );
  });

  it("shows a team only to its members and platform admins, with names escaped", async () => {
    const bob = new Browser();
    await signIn(bob, { claims: { email: "bob@example.com", sub: "bob-1", groups: [] } });
    expect((await page(bob, "/teams/design")).status).toBe(404);
    expect((await page(bob, "/teams/no-such-team")).status).toBe(404);

    const ada = new Browser();
    await signIn(ada, { claims: { email: "ada@example.com", sub: "ada-1" } });
    const hostile = await page(ada, "/teams/script-alert-1-script-eng");
    expect(hostile.status).toBe(200);
    expect(hostile.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt; Eng");
    expect(hostile.text).not.toContain("<script>alert(1)");
  });

  it("keeps a member a team admin added by hand when SCIM empties the group", async () => {
    const root = new Browser();
    await signIn(root, { claims: { email: "root@example.com", sub: "root-1" } });
    const view = await page(root, "/teams/design");
    expect(view.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(view.text)?.[1] ?? "";
    const added = await root.request(`${base}/teams/design/members`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
      body: `_csrf=${encodeURIComponent(csrf)}&email=carol%40example.com`,
    });
    expect(added.status).toBe(200);
    expect(await added.text()).toContain("Added carol@example.com.");

    await scim("PUT", `/Groups/${ids.design}`, {
      schemas: [GROUP],
      displayName: "Design",
      members: [],
    });
    const after = await page(root, "/teams/design");
    expect(after.text).toMatch(/carol@example\.com<\/th><td>Added by hand/);
    // Ada stays through her sign-in groups; SCIM's membership is gone.
    expect(after.text).toMatch(/ada@example\.com<\/span><\/th><td>Sign-in groups \(OIDC\)<\/td>/);

    const refused = await root.request(`${base}/teams/design/members`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
      body: "email=mallory%40example.com",
    });
    expect(refused.status).toBe(403);
  });

  it("refuses OIDC sign-in to a person SCIM deactivated", async () => {
    await scim("PATCH", `/Users/${ids.bob}`, {
      schemas: [PATCH],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    const bob = new Browser();
    const done = await signIn(bob, {
      claims: { email: "bob@example.com", sub: "bob-1", groups: ["Design"] },
    });
    expect(done.status).toBe(403);
    expect(await done.text()).toContain("deactivated");
    expect((await page(bob, "/")).status).toBe(303);
  });
});
