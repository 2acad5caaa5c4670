import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";

/**
 * How `serve` picks the site's sign-in: bound beyond loopback there is no development form;
 * with a trusted header configured, a request from a listed proxy is signed in by it.
 */
describe("sign-in modes of switchboard serve", { timeout: 90_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-sign-in-"));
  let server: SwitchboardProcess;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      PORT: String(port),
      HOST: "0.0.0.0",
      AUTH_TRUSTED_HEADER: "X-Forwarded-Email",
      AUTH_TRUSTED_PROXIES: "127.0.0.1, ::1",
    });
    await server.waitFor(`${base}/readyz`);
  }, 90_000);

  afterAll(async () => {
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("offers no development sign-in when bound beyond loopback", async () => {
    const page = await fetch(`${base}/sign-in`);
    const text = await page.text();
    expect(text).toContain("single sign-on");
    expect(text).not.toContain('name="email"');
    const cookie = page.headers.get("set-cookie")?.split(";")[0] ?? "";
    // No form to post, but a request with a valid session and token is still refused.
    const token = /name="csrf-token" content="([^"]+)"/.exec(text)?.[1] ?? "";
    const posted = await fetch(`${base}/sign-in`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: `_csrf=${token}&email=eve@example.com`,
      redirect: "manual",
    });
    expect(posted.status).toBe(404);
  });

  it("signs in from the trusted header sent by a listed proxy", async () => {
    const page = await fetch(`${base}/`, {
      headers: { "x-forwarded-email": "grace@example.com" },
      redirect: "manual",
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("grace@example.com");
    // The session it set works without the header, for the API too.
    const cookie = page.headers.get("set-cookie")?.split(";")[0] ?? "";
    const api = await fetch(`${base}/api/v1/agents`, { headers: { cookie } });
    expect(api.status).toBe(200);
    const anonymous = await fetch(`${base}/`, { redirect: "manual" });
    expect(anonymous.status).toBe(303);
  });
});
