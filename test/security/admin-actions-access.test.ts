import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";
import { closeSiteClients, csrfTokenIn, developmentSignIn, siteRequest } from "./site-client.js";

/**
 * The admin page's actions posted by someone who is not a platform admin, with a valid
 * session and CSRF token (as a signed-in person can always get): suspending, retiring (both
 * steps), granting and revoking access, making themselves a platform admin and removing the
 * real one. Each is a 403 in words, and the admin's page shows that nothing changed.
 */
describe("the admin page's actions posted by a non-admin", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-admin-attack-"));
  let server: SwitchboardProcess;
  let base: string;
  let bob: string;
  let ada: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      SWITCHBOARD_ADMINS: "ada@example.com",
      LOG_LEVEL: "warn",
      PORT: String(port),
      PUBLIC_URL: base,
    });
    await server.waitFor(`${base}/readyz`);
    bob = await developmentSignIn(base, "bob@example.com");
    ada = await developmentSignIn(base, "ada@example.com");
  }, 90_000);

  afterAll(async () => {
    await closeSiteClients();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("answers each action 403 and changes nothing", async () => {
    const home = await siteRequest(`${base}/`, { headers: { cookie: bob } });
    const csrf = csrfTokenIn(home.text);
    expect(csrf).not.toBe("");
    const attempts: [string, Record<string, string>][] = [
      ["/admin/agents/demo/state", { state: "suspended" }],
      ["/admin/agents/demo/retire", {}],
      ["/admin/agents/demo/retire", { confirm: "yes" }],
      [
        "/admin/access",
        { change: "grant", agent: "demo", relation: "editor", subject: "bob@example.com" },
      ],
      ["/admin/access", { change: "revoke", agent: "demo", relation: "runner", subject: "user:*" }],
      ["/admin/platform-admins", { change: "grant", email: "bob@example.com" }],
      ["/admin/platform-admins", { change: "revoke", email: "ada@example.com" }],
    ];
    for (const [path, form] of attempts) {
      const answer = await siteRequest(`${base}${path}`, {
        method: "POST",
        headers: { cookie: bob, origin: base },
        form: { _csrf: csrf, ...form },
      });
      expect(answer.status, path).toBe(403);
      expect(answer.text).toContain("Only platform admins may do this.");
    }
    const page = await siteRequest(`${base}/admin`, { headers: { cookie: ada } });
    expect(page.status).toBe(200);
    const admins = /id="platform-admins"[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? "";
    expect(admins).toContain("ada@example.com");
    expect(admins).not.toContain("bob@example.com");
    const enabled = /id="state-enabled"[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? "";
    expect(enabled).toContain("/agents/demo");
    expect(page.text).not.toContain("authz.granted");
    expect(page.text).not.toContain("authz.revoked");
    expect(page.text).not.toContain("agent.suspended");
    expect(page.text).not.toContain("agent.retired");
  });

  it("refuses an admin's action without the CSRF token", async () => {
    const answer = await siteRequest(`${base}/admin/agents/demo/state`, {
      method: "POST",
      headers: { cookie: ada, origin: base },
      form: { state: "suspended" },
    });
    expect(answer.status).toBe(403);
    const page = await siteRequest(`${base}/admin`, { headers: { cookie: ada } });
    expect(page.text).not.toContain("agent.suspended");
  });
});
