import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { HttpAgentDouble } from "./doubles/http-agent.js";
import { eventually } from "./support/eventually.js";
import { apiRequest, readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * The operator's path with the real CLI: a secret set from stdin, granted to an agent,
 * listed without its value; the keys rotated (a new key first, `secrets rotate`, the old
 * key dropped); and the agent still runs with its secret on the new key alone.
 */

const VALUE = `agent-key-${randomBytes(12).toString("hex")}`;
const key = (id: string) => `${id}:${randomBytes(32).toString("base64")}`;
const OLD = key("old");
const NEW = key("new");

describe("switchboard secrets", { timeout: 240_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-secrets-cli-"));
  // The agent double listens on loopback, which agents reach only when allowed.
  const env: Record<string, string> = { LOG_LEVEL: "warn", RUNTIME_EGRESS_ALLOW: "127.0.0.1" };
  let pg: TestDatabase;
  let agent: HttpAgentDouble;
  const cli = (args: string[], keys: string, input?: string) =>
    runSwitchboard(["secrets", ...args], { ...env, SECRETS_KEYS: keys }, input);

  beforeAll(async () => {
    pg = await createTestDatabase("secrets_cli");
    env.DATABASE_URL = pg.url;
    agent = await HttpAgentDouble.start({ stream: false, requireHeaders: { "X-Api-Key": VALUE } });
    const manifest = {
      apiVersion: "switchboard/v1",
      kind: "Agent",
      metadata: { name: "keyed-agent", title: "Keyed", owner: "team:platform" },
      spec: {
        runtime: {
          type: "http",
          url: agent.url,
          headers: { "X-Api-Key": { secret: "agent-key" } },
        },
        access: { view: ["user:*"], run: ["user:*"] },
      },
    };
    writeFileSync(join(root, "agent.yaml"), stringify(manifest));
    const applied = await runSwitchboard(["agents", "apply", join(root, "agent.yaml")], env);
    expect(applied.code, applied.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await agent.close();
    await pg.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it("says, with PostgreSQL and no key, that the store is off and which setting turns it on", async () => {
    const off = await runSwitchboard(["secrets", "list"], env);
    expect([off.code, off.stderr]).toEqual([
      1,
      expect.stringMatching(/secret store is off: set SECRETS_KEYS/),
    ]);
  });

  it("sets a secret from stdin, grants it and lists it, never printing the value", async () => {
    const set = await cli(["set", "agent-key", "--owner", "team:platform"], OLD, `${VALUE}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain("created   agent-key (version 1, owner team:platform)");
    const grant = await cli(["grant", "agent-key", "keyed-agent"], OLD);
    expect(grant.stdout.trim()).toBe("granted  agent-key to keyed-agent");
    const list = await cli(["list"], OLD);
    expect(list.stdout).toMatch(/agent-key\s+team:platform\s+1\s+old\s+keyed-agent/);
    for (const output of [set, grant, list])
      expect(output.stdout + output.stderr).not.toContain(VALUE);
    const noOwner = await cli(["set", "other-key"], OLD, "x1234");
    expect([noOwner.code, noOwner.stderr]).toEqual([
      1,
      expect.stringContaining("give its owner: user:EMAIL or team:SLUG"),
    ]);
  });

  it("rotates to a new key first in the list, once, and says what it did", async () => {
    const rotated = await cli(["rotate"], `${NEW},${OLD}`);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('1 data key re-wrapped under "new".');
    const again = await cli(["rotate"], `${NEW},${OLD}`);
    expect(again.stdout).toContain('0 data keys re-wrapped under "new".');
    expect((await cli(["list"], NEW)).stdout).toMatch(/agent-key\s+team:platform\s+1\s+new/);
  });

  it("runs the agent with its secret on the new key alone", async () => {
    const created = await runSwitchboard(["keys", "create", "--user", "ada@example.com"], env);
    const apiKey = created.stdout.trim().split("\n").at(-1) ?? "";
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const serve = new SwitchboardProcess(["serve"], {
      ...env,
      SECRETS_KEYS: NEW,
      PORT: String(port),
    });
    try {
      await serve.waitFor(`${base}/readyz`, 90_000);
      const started = await readJson(
        await apiRequest(base, apiKey, "POST", "/agents/keyed-agent/runs", { input: "hello" }),
      );
      const run = await eventually(async () => {
        const body = await readJson(await apiRequest(base, apiKey, "GET", `/runs/${started.id}`));
        expect(body.status).toMatch(/succeeded|failed/);
        return body;
      }, 30_000);
      expect(run, JSON.stringify(run.error)).toMatchObject({ status: "succeeded" });
      expect(agent.unexpected()).toEqual([]);
      expect(serve.stdout + serve.stderr).not.toContain(VALUE);
    } finally {
      serve.signal("SIGTERM");
      await serve.exited;
    }
  });
});
