import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithOpenFga, OpenFgaServer, openFgaBinaryPath } from "./support/openfga-server.js";
import { freePort } from "./support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/** `switchboard authz …` and the authorizer inside `switchboard serve`, as an operator uses them. */

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-authz-cli-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const lastLine = (text: string) => text.trim().split("\n").at(-1);

// Each step starts a real process (and an embedded database): generous time on two busy cores.
describe("switchboard authz on the embedded evaluator", { timeout: 120_000 }, () => {
  const env = { SWITCHBOARD_DATA_DIR: dataDir(), LOG_LEVEL: "warn" };

  it("grants, checks, lists and revokes, denying by default", async () => {
    const applied = await runSwitchboard(
      ["agents", "apply", "directory/examples/ticket-triage.yaml"],
      env,
    );
    expect(applied.code, applied.stderr).toBe(0);
    expect(
      (
        await runSwitchboard(
          ["authz", "grant", "team:platform#member", "runner", "agent:ticket-triage"],
          env,
        )
      ).stdout,
    ).toBe("granted: team:platform#member runner agent:ticket-triage\n");
    await runSwitchboard(["authz", "grant", "Ada@Example.com", "member", "team:platform"], env);

    const allowed = await runSwitchboard(
      ["authz", "check", "ada@example.com", "runner", "agent:ticket-triage"],
      env,
    );
    expect([allowed.stdout, allowed.code]).toEqual(["allowed\n", 0]);
    const denied = await runSwitchboard(
      ["authz", "check", "bob@example.com", "runner", "agent:ticket-triage"],
      env,
    );
    expect([denied.stdout, denied.code]).toEqual(["denied\n", 1]);
    expect(
      (await runSwitchboard(["authz", "list", "ada@example.com", "viewer", "agent"], env)).stdout,
    ).toBe("agent:ticket-triage\n");

    await runSwitchboard(["authz", "revoke", "ada@example.com", "member", "team:platform"], env);
    expect(
      (
        await runSwitchboard(
          ["authz", "check", "ada@example.com", "runner", "agent:ticket-triage"],
          env,
        )
      ).code,
    ).toBe(1);
  });

  it("makes the members of a team it brings into being ones who may register agents", async () => {
    const registrar = [
      "authz",
      "check",
      "bob@example.com",
      "agent_registrar",
      "platform:switchboard",
    ];
    await runSwitchboard(["authz", "grant", "bob@example.com", "member", "team:newcomers"], env);
    expect((await runSwitchboard(registrar, env)).stdout).toBe("allowed\n");
    await runSwitchboard(["authz", "revoke", "bob@example.com", "member", "team:newcomers"], env);
    expect((await runSwitchboard(registrar, env)).stdout).toBe("denied\n");
  });

  it("refuses a grant the model does not allow, saying why", async () => {
    const result = await runSwitchboard(
      ["authz", "grant", "agent:x", "runner", "agent:ticket-triage"],
      env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Invalid tuple agent:ticket-triage#runner@agent:x: "agent:x" is not an allowed type for agent#runner',
    );
  });

  it("refuses, in words, access to an agent that does not exist and a person who is not an email", async () => {
    const noAgent = await runSwitchboard(
      ["authz", "grant", "ada@example.com", "runner", "agent:no-such-agent"],
      env,
    );
    expect(noAgent.code).toBe(1);
    expect(noAgent.stderr).toContain('There is no agent called "no-such-agent".');

    for (const user of ["bob", "user:bob"]) {
      const notEmail = await runSwitchboard(
        ["authz", "grant", user, "runner", "agent:ticket-triage"],
        env,
      );
      expect(notEmail.code).toBe(1);
      expect(notEmail.stderr).toContain('"bob" is not an email address.');
    }
    const check = await runSwitchboard(
      ["authz", "check", "user:bob", "runner", "agent:ticket-triage"],
      env,
    );
    expect(check.stderr).toContain("is not an email address");
    // Nothing was written by the refused grants.
    expect(
      (await runSwitchboard(["authz", "list", "ada@example.com", "runner", "agent"], env)).stdout,
    ).not.toContain("no-such-agent");
  });

  it("runs the policy's store tests, ending with the pass/fail line", async () => {
    const result = await runSwitchboard(["authz", "test", "authz/model.fga.yaml"], env);
    expect(result.code).toBe(0);
    expect(lastLine(result.stdout)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it("exits non-zero when an assertion fails, naming it", async () => {
    const file = join(dataDir(), "wrong.fga.yaml");
    writeFileSync(
      file,
      [
        `model_file: ${join(process.cwd(), "authz/model.fga")}`,
        "tuples:",
        "  - { user: user:ada@example.com, relation: viewer, object: agent:faq }",
        "tests:",
        "  - name: a wrong expectation",
        "    check:",
        "      - user: user:ada@example.com",
        "        object: agent:faq",
        "        assertions: { viewer: false, runner: false }",
      ].join("\n"),
    );
    const result = await runSwitchboard(["authz", "test", file], env);
    expect(result.code).toBe(1);
    expect(lastLine(result.stdout)).toBe("1 passed, 1 failed");
    expect(result.stdout).toContain("a wrong expectation");
  });
});

describeWithOpenFga(
  "switchboard with an OpenFGA server",
  (openFga) => {
    it("grants and checks through the server, and runs the policy tests against it", async () => {
      const env = {
        SWITCHBOARD_DATA_DIR: dataDir(),
        OPENFGA_API_URL: openFga().url,
        LOG_LEVEL: "warn",
      };
      await runSwitchboard(["agents", "apply", "directory/examples/ticket-triage.yaml"], env);
      await runSwitchboard(["authz", "grant", "user:*", "viewer", "agent:ticket-triage"], env);
      expect(
        (
          await runSwitchboard(
            ["authz", "check", "anyone@example.com", "viewer", "agent:ticket-triage"],
            env,
          )
        ).stdout,
      ).toBe("allowed\n");
      const tested = await runSwitchboard(["authz", "test", "authz/model.fga.yaml"], env);
      expect(tested.stdout).toContain("OpenFGA server at");
      expect(lastLine(tested.stdout)).toMatch(/^\d+ passed, 0 failed$/);
    });

    it("serve bootstraps platform admins, and /readyz names OpenFGA when it goes away", async () => {
      const own = await OpenFgaServer.start(openFgaBinaryPath());
      const port = await freePort();
      const env = {
        PORT: String(port),
        SWITCHBOARD_DATA_DIR: dataDir(),
        OPENFGA_API_URL: own.url,
        SWITCHBOARD_ADMINS: "root@example.com",
      };
      const serve = new SwitchboardProcess(["serve"], env);
      try {
        await serve.waitFor(`http://127.0.0.1:${port}/readyz`);
        const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json();
        expect(ready).toMatchObject({ checks: { database: "ok", openfga: "ok" } });
        const admin = await runSwitchboard(
          ["authz", "check", "root@example.com", "admin", "platform:switchboard"],
          {
            ...env,
            SWITCHBOARD_DATA_DIR: dataDir(),
          },
        );
        expect(admin.stdout).toBe("allowed\n");

        await own.stop();
        const down = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(down.status).toBe(503);
        expect(await down.json()).toMatchObject({
          error: { message: "Not ready: openfga is down." },
        });
      } finally {
        await serve.kill();
        await own.stop();
      }
    });

    it("serve with AGENT_REGISTRATION=admins takes registering away from existing teams' members", async () => {
      const own = await OpenFgaServer.start(openFgaBinaryPath());
      const port = await freePort();
      const env = { SWITCHBOARD_DATA_DIR: dataDir(), OPENFGA_API_URL: own.url, LOG_LEVEL: "warn" };
      // `authz check` only asks the server: it runs beside serve on a database of its own.
      const registrar = () =>
        runSwitchboard(
          ["authz", "check", "bob@example.com", "agent_registrar", "platform:switchboard"],
          { ...env, SWITCHBOARD_DATA_DIR: dataDir() },
        );
      let serve: SwitchboardProcess | undefined;
      try {
        await runSwitchboard(["authz", "grant", "bob@example.com", "member", "team:support"], env);
        expect((await registrar()).stdout).toBe("allowed\n");
        serve = new SwitchboardProcess(["serve"], {
          ...env,
          PORT: String(port),
          AGENT_REGISTRATION: "admins",
        });
        await serve.waitFor(`http://127.0.0.1:${port}/readyz`);
        expect((await registrar()).stdout).toBe("denied\n");
      } finally {
        await serve?.kill();
        await own.stop();
      }
    });
  },
  { timeout: 120_000 },
);
