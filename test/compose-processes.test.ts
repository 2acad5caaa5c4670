import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoopbackServer, readBody, startLoopbackServer } from "./doubles/loopback-server.js";
import { cspViolations, findChromium, launchChromium, waitUntil } from "./site/browser.js";
import {
  environmentOf,
  mountedFile,
  optionValue,
  type Service,
  service,
} from "./support/compose-file.js";
import { DemoOidcServer, findDemoOidcBinary } from "./support/oidc-demo-server.js";
import { findOpenFgaBinary, OpenFgaServer } from "./support/openfga-server.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { RedisServer } from "./support/redis-server.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * `docker compose up`, without Docker: every service of docker-compose.yml started as a
 * process on this machine, with the environment values read from the file itself (only the
 * addresses move: compose's service names and ports become loopback ports the OS picked).
 * PostgreSQL, Redis, OpenFGA on its PostgreSQL datastore, the demo OIDC provider, and
 * Switchboard's web, worker and proxy. The demo user then signs in through Chromium with
 * the password the README gives, and runs an agent whose own model call goes through the
 * proxy with the key its run handed it.
 */

const chromium = findChromium();
const openfga = findOpenFgaBinary();
const oidcBinary = findDemoOidcBinary();
const missing = [
  chromium ? undefined : "chromium is not installed",
  openfga.missing,
  oidcBinary.missing,
].filter(Boolean);
if (missing.length > 0) console.log(`skipped: docker compose as processes: ${missing.join("; ")}`);

const oidc = service("oidc");
const users = JSON.parse(
  readFileSync(mountedFile(oidc, oidc.environment?.USERS_FILE ?? ""), "utf8"),
) as Record<string, { Username: string; Password: string; Email: string }>;
const demo = Object.values(users)[0] as { Username: string; Password: string; Email: string };

/** What the test sets in "the shell that runs compose", as the README tells an operator to. */
const SHELL = {
  // Its agent is on this machine's loopback, which agents may not reach unless listed.
  RUNTIME_EGRESS_ALLOW: "127.0.0.1",
  PROXY_MASTER_KEY: `sk-master-${randomBytes(12).toString("hex")}`,
  SESSION_SECRET: randomBytes(24).toString("hex"),
};

/** The agent: on each turn it asks the model proxy, with its run's key, which models it may use. */
async function startProxyCheckingAgent(): Promise<{ server: LoopbackServer; calls: string[] }> {
  const calls: string[] = [];
  const server = await startLoopbackServer((req, res) => {
    void (async () => {
      if (req.method !== "POST" || req.url !== "/agent") {
        calls.push(`unexpected ${req.method} ${req.url}`);
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(await readBody(req));
      const proxy = body.model_proxy as { base_url: string; api_key: string } | undefined;
      calls.push(proxy?.base_url ?? "no model_proxy");
      let output = "No model proxy was handed to me.";
      if (proxy) {
        const models = await fetch(`${proxy.base_url}/v1/models`, {
          headers: { authorization: `Bearer ${proxy.api_key}` },
        });
        const ids = models.ok
          ? ((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)
          : [];
        output = `The model proxy answered ${models.status}: ${ids.join(", ")}`;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ output }));
    })().catch((error: Error) => {
      // The proxy unreachable: the run fails with this, and the test says why.
      calls.push(`failed: ${error.message}`);
      if (!res.headersSent) res.writeHead(500).end(error.message);
    });
  });
  return { server, calls };
}

describe.skipIf(missing.length > 0)("docker compose as processes", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-compose-"));
  const databases: TestDatabase[] = [];
  let redis: RedisServer;
  let fga: OpenFgaServer;
  let provider: DemoOidcServer;
  let agent: Awaited<ReturnType<typeof startProxyCheckingAgent>>;
  const processes: SwitchboardProcess[] = [];
  let web: SwitchboardProcess;
  let publicUrl = "";
  let proxyUrl = "";
  let oidcPort = 0;

  /**
   * A compose service's environment with its addresses moved to this machine: each compose
   * `host:port` becomes the loopback port its process got, HOST becomes loopback (0.0.0.0 is
   * for a container), and DATABASE_URL names this test's own database.
   */
  function locally(
    of: Service,
    moved: Map<string, string>,
    database: string,
  ): Record<string, string> {
    const env = environmentOf(of);
    const local: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      let rewritten = value;
      for (const [from, to] of moved) rewritten = rewritten.replaceAll(`//${from}`, `//${to}`);
      local[name] = rewritten;
    }
    const composeDatabase = new URL(env.DATABASE_URL ?? "");
    expect(`${composeDatabase.hostname}:${composeDatabase.port}`).toBe("postgres:5432");
    return { ...local, ...SHELL, DATABASE_URL: database, HOST: "127.0.0.1" };
  }

  beforeAll(async () => {
    const [switchboardDb, openfgaDb] = [
      await createTestDatabase("compose"),
      await createTestDatabase("compose_fga"),
    ];
    databases.push(switchboardDb, openfgaDb);
    redis = await RedisServer.start();
    // Compose's OpenFGA keeps its store in PostgreSQL, migrated first: so does this one.
    expect(environmentOf(service("openfga")).OPENFGA_DATASTORE_ENGINE).toBe("postgres");
    fga = await OpenFgaServer.start(openfga.path as string, { postgresUrl: openfgaDb.url });
    agent = await startProxyCheckingAgent();

    const webService = service("web");
    const workerService = service("worker");
    const proxyService = service("proxy");
    const composeWeb = environmentOf(webService);
    const composeOidc = environmentOf(oidc);
    const composeIssuer = new URL(composeWeb.OIDC_ISSUER_URL ?? "");
    const composePublic = new URL(composeWeb.PUBLIC_URL ?? "");
    const proxyCommand = proxyService.command ?? [];
    const [webPort, proxyPort, workerPort] = [await freePort(), await freePort(), await freePort()];
    oidcPort = await freePort();
    publicUrl = `http://localhost:${webPort}`;
    proxyUrl = `http://127.0.0.1:${proxyPort}`;
    const moved = new Map([
      [`${composePublic.hostname}:${composePublic.port}`, `localhost:${webPort}`],
      [`${composeIssuer.hostname}:${composeIssuer.port}`, `localhost:${oidcPort}`],
      [`proxy:${optionValue(proxyCommand, "--port")}`, `127.0.0.1:${proxyPort}`],
      ["redis:6379", new URL(redis.url).host],
      ["openfga:8080", new URL(fga.url).host],
    ]);

    // The demo provider, as compose runs it: its port and redirect URI moved with web's.
    provider = await DemoOidcServer.start(oidcBinary.path as string, {
      ...composeOidc,
      PORT: String(oidcPort),
      USERS_FILE: mountedFile(oidc, composeOidc.USERS_FILE ?? ""),
      REDIRECT_URI: (composeOidc.REDIRECT_URI ?? "").replace(
        `//${composePublic.host}`,
        `//localhost:${webPort}`,
      ),
    });

    const webEnv: Record<string, string> = {
      ...locally(webService, moved, switchboardDb.url),
      PORT: String(webPort),
    };
    // Every address now points at this machine; none of compose's service names is left.
    expect(JSON.stringify(webEnv)).not.toMatch(/\/\/(postgres|redis|openfga|proxy)[:/]/);
    expect(webEnv.MODEL_PROXY_URL).toBe(proxyUrl);

    // An agent registered the way an operator does, beside the running deployment.
    const manifest = join(dir, "agents.yaml");
    writeFileSync(
      manifest,
      `apiVersion: switchboard/v1
kind: Agent
metadata: { name: proxy-check, title: Proxy check, owner: team:platform }
spec:
  runtime: { type: http, url: "${agent.server.url}/agent" }
  access: { view: ["user:*"], run: ["user:*"] }
`,
    );

    web = new SwitchboardProcess(webService.command ?? [], webEnv);
    processes.push(web);
    await web.waitFor(`http://127.0.0.1:${webPort}/readyz`, 120_000);

    const workerArgs = [...(workerService.command ?? [])];
    workerArgs[workerArgs.indexOf("--port") + 1] = String(workerPort);
    const worker = new SwitchboardProcess(
      workerArgs,
      locally(workerService, moved, switchboardDb.url),
    );
    processes.push(worker);

    const proxyArgs = [...proxyCommand];
    proxyArgs[proxyArgs.indexOf("--port") + 1] = String(proxyPort);
    const configAt = proxyArgs.indexOf("--config") + 1;
    proxyArgs[configAt] = mountedFile(proxyService, proxyArgs[configAt] as string);
    const proxy = new SwitchboardProcess(
      proxyArgs,
      locally(proxyService, moved, switchboardDb.url),
    );
    processes.push(proxy);
    await worker.waitFor(`http://127.0.0.1:${workerPort}/readyz`, 120_000);
    await proxy.waitFor(`${proxyUrl}/healthz`, 120_000);

    const applied = await runSwitchboard(["agents", "apply", manifest], webEnv);
    expect(applied.code, applied.stderr).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await provider?.stop();
    await fga?.stop();
    await redis?.stop();
    await agent?.server.close();
    for (const database of databases) await database.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs how to sign in, naming the demo provider and never its client secret", () => {
    const line = web.stdout
      .split("\n")
      .find((l) => l.includes("Sign in at"))
      ?.trim();
    expect(line).toBeDefined();
    const { msg } = JSON.parse(line as string) as { msg: string };
    expect(msg).toBe(
      `Sign in at ${publicUrl}/sign-in with "Sign in with localhost:${oidcPort}" (OIDC issuer http://localhost:${oidcPort}/, client web; register ${publicUrl}/auth/callback there as its redirect URI)`,
    );
    expect(web.stdout).not.toContain(`"${environmentOf(service("web")).OIDC_CLIENT_SECRET}"`);
  });

  it("signs the demo user in through the browser with the README's password, as an admin", async () => {
    const browser = await launchChromium(chromium as string);
    try {
      const context = await browser.newContext();
      const violations = cspViolations(context);
      const page = await context.newPage();
      await page.goto(`${publicUrl}/`);
      await page.waitForURL(/\/sign-in/);
      await page.getByRole("link", { name: `Sign in with localhost:${oidcPort}` }).click();
      // The provider's own login page.
      await page.waitForURL(new RegExp(`^http://localhost:${oidcPort}/login`));
      await page.getByLabel("Username").fill(demo.Username);
      await page.getByLabel("Password").fill("not the password");
      await page.getByRole("button", { name: "Login" }).click();
      // A wrong password is refused there, and nobody is signed in.
      await expect(page.locator("body").innerText()).resolves.toContain(
        "username or password wrong",
      );
      expect(page.url()).toMatch(new RegExp(`^http://localhost:${oidcPort}/`));
      await page.getByLabel("Username").fill(demo.Username);
      await page.getByLabel("Password").fill(demo.Password);
      await page.getByRole("button", { name: "Login" }).click();
      await page.waitForURL(`${publicUrl}/`);
      expect(await page.locator(".account-email").textContent()).toBe(demo.Email);
      // SWITCHBOARD_ADMINS names the demo user: the admin page is theirs.
      const admin = await page.goto(`${publicUrl}/admin`);
      expect(admin?.status()).toBe(200);

      // Their agent's own model call goes through the proxy with its run's key.
      await page.goto(`${publicUrl}/agents/proxy-check`);
      await page.getByLabel("Message to Proxy check").fill("Which models may you use?");
      await page.getByRole("button", { name: "Send" }).click();
      await waitUntil(
        page,
        `/The model proxy answered/.test(document.querySelector("[data-chat-log] .msg-agent .msg-text")?.textContent ?? "")`,
        60_000,
      );
      await expect(
        page.locator("[data-chat-log] .msg-agent .msg-text").innerText(),
      ).resolves.toContain("The model proxy answered 200: claude-sonnet, gpt-4o-mini");
      expect(agent.calls).toEqual([proxyUrl]);
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("gives the proxy's master key full access, and nothing without a key", async () => {
    const withKey = await fetch(`${proxyUrl}/v1/models`, {
      headers: { authorization: `Bearer ${SHELL.PROXY_MASTER_KEY}` },
    });
    expect(withKey.status).toBe(200);
    const ids = ((await withKey.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids.sort()).toEqual(["claude-sonnet", "gpt-4o-mini"]);
    const without = await fetch(`${proxyUrl}/v1/models`);
    await without.body?.cancel();
    expect(without.status).toBe(401);
  });
});
