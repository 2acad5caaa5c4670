import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * A newcomer's path, with the real CLI and server: validate and apply manifests, make an API
 * key, find the agent through the API; someone without access cannot see it.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-directory-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
const agentsDir = join(root, "agents");
mkdirSync(agentsDir);

const triage = `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: triage
  title: Ticket triage
  owner: team:support
  tags: [support]
spec:
  runtime:
    type: a2a
    url: https://agents.internal/triage
  access:
    view: [user:ada@example.com]
`;
const secret = triage.replace("name: triage", "name: secret").replace("ada@", "nobody@");

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? "";

// Each step starts a real process on an embedded database: generous time on two busy cores.
describe("switchboard agents and keys", { timeout: 180_000 }, () => {
  it("reports an invalid manifest by file, line and field, and applies nothing", async () => {
    const bad = join(root, "bad.yaml");
    writeFileSync(bad, triage.replace("view: [user:ada@example.com]", "view: [ada]"));
    const validated = await runSwitchboard(["agents", "validate", bad], env);
    expect(validated.code).toBe(1);
    expect(validated.stderr).toContain(
      `${bad}:13: spec.access.view[0]: must be user:EMAIL, team:SLUG or user:*`,
    );
    const applied = await runSwitchboard(["agents", "apply", bad], env);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain("Nothing was applied");
  });

  it("checks runtime settings with the runtime's own adapter", async () => {
    const wrong = join(root, "wrong-runtime.yaml");
    writeFileSync(
      wrong,
      triage.replace(
        "type: a2a\n    url: https://agents.internal/triage",
        "type: n8n\n    url: https://n8n.internal/webhook/x",
      ),
    );
    const validated = await runSwitchboard(["agents", "validate", wrong], env);
    expect(validated.code).toBe(1);
    expect(validated.stderr).toMatch(/spec\.runtime\.webhook_url: .*URL/);
    const unknown = join(root, "unknown-runtime.yaml");
    writeFileSync(unknown, triage.replace("type: a2a", "type: mainframe"));
    const refused = await runSwitchboard(["agents", "apply", unknown], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /spec\.runtime\.type: is "mainframe", which no adapter runs; known: a2a, bedrock-agentcore, claude-managed-agents, cursor, databricks, daytona, demo, e2b, elastic-agent-builder, http, n8n/,
    );
  });

  it("applies a folder, says what changed, and is idempotent", async () => {
    writeFileSync(join(agentsDir, "triage.yaml"), triage);
    writeFileSync(join(agentsDir, "secret.yml"), secret);
    const dryRun = await runSwitchboard(["agents", "apply", agentsDir, "--dry-run"], env);
    expect(lastLine(dryRun.stdout)).toBe("Dry run, nothing changed: 2 created.");
    const first = await runSwitchboard(["agents", "apply", agentsDir], env);
    expect([first.code, first.stdout.split("\n").slice(0, 2)]).toEqual([
      0,
      [expect.stringMatching(/^created +secret/), expect.stringMatching(/^created +triage/)],
    ]);
    writeFileSync(
      join(agentsDir, "triage.yaml"),
      triage.replace(
        "view: [user:ada@example.com]",
        "view: [user:ada@example.com]\n    run: [team:support]",
      ),
    );
    const changed = await runSwitchboard(["agents", "apply", agentsDir, "--dry-run"], env);
    expect(changed.stdout).toContain(
      "updated   triage (spec.access)\n  + runner team:support#member\n",
    );
    writeFileSync(join(agentsDir, "triage.yaml"), triage);
    const again = await runSwitchboard(["agents", "apply", agentsDir], env);
    expect(lastLine(again.stdout)).toBe("2 unchanged.");

    const suspended = await runSwitchboard(
      ["agents", "suspend", "secret", "--reason", "under review"],
      env,
    );
    expect(suspended.stdout.trim()).toBe("suspended secret: under review");
    const listed = await runSwitchboard(["agents", "list"], env);
    expect(listed.stdout).toMatch(/secret +suspended +experimental +a2a +team:support/);
    const featured = await runSwitchboard(["agents", "feature", "triage"], env);
    expect(featured.stdout.trim()).toBe("featured triage");
    const shown = await runSwitchboard(["agents", "show", "triage"], env);
    expect(shown.stdout).toContain("title: Ticket triage");
    expect(shown.stdout).toContain("# featured: offered in chat to everyone who may run it");
    const missing = await runSwitchboard(["agents", "show", "nope"], env);
    expect([missing.code, missing.stderr.trim()]).toEqual([
      1,
      'switchboard: The agent "nope" was not found.',
    ]);
  });

  it("makes an API key that finds the agent through the API, until it is revoked", async () => {
    const created = await runSwitchboard(
      ["keys", "create", "--user", "Ada@Example.com", "--name", "laptop"],
      env,
    );
    expect(created.code).toBe(0);
    const key = lastLine(created.stdout);
    expect(key).toMatch(/^sb_live_[\w-]{43}$/);
    const bob = lastLine(
      (await runSwitchboard(["keys", "create", "--user", "bob@example.com"], env)).stdout,
    );

    const port = await freePort();
    const serve = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    try {
      await serve.waitFor(`http://127.0.0.1:${port}/readyz`, 60_000);
      const list = async (apiKey: string) => {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/agents`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        return (await readJson(response)).items.map((agent: { name: string }) => agent.name);
      };
      // The demo agent is registered on the embedded default's first start.
      expect(await list(key)).toEqual(["demo", "triage"]);
      expect(await list(bob)).toEqual(["demo"]);
      const hidden = await fetch(`http://127.0.0.1:${port}/api/v1/agents/triage`, {
        headers: { authorization: `Bearer ${bob}` },
      });
      expect(hidden.status).toBe(404);
      // Featured by the operator above: the API says so.
      const triage = await fetch(`http://127.0.0.1:${port}/api/v1/agents/triage`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect((await readJson(triage)).featured).toBe(true);
    } finally {
      serve.signal("SIGTERM");
      await serve.exited;
    }

    const keys = await runSwitchboard(["keys", "list"], env);
    const adaLine = keys.stdout.split("\n").find((line) => line.includes("ada@example.com"));
    expect(adaLine).toMatch(/laptop .* active$/);
    expect(keys.stdout).not.toContain(key);
    const id = adaLine?.split(/\s+/)[0] ?? "";
    expect((await runSwitchboard(["keys", "revoke", id], env)).stdout.trim()).toBe(
      `revoked  ${id}`,
    );
    expect((await runSwitchboard(["keys", "list"], env)).stdout).toMatch(/laptop .* revoked/);
    const unknown = await runSwitchboard(["keys", "revoke", "not-an-id"], env);
    expect(unknown.code).toBe(1);
  });
});
