import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * The README's CLI steps while `npm start` runs: on the embedded database (one process only)
 * each `switchboard …` command is a real process of its own that reaches the running server
 * over its admin socket, and the server sees what it did at once.
 */

const REPOSITORY = fileURLToPath(new URL("..", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "sb-cli-serve-"));
const dataDir = join(root, "data");
const socketPath = join(dataDir, "switchboard.sock");
const env = { SWITCHBOARD_DATA_DIR: dataDir, LOG_LEVEL: "warn" };
const cli = (args: string[], input?: string) => runSwitchboard(args, env, input);
const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? "";

const triage = `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: triage
  title: Ticket triage
  owner: team:support
spec:
  runtime:
    type: a2a
    url: https://agents.internal/triage
  access:
    view: [user:ada@example.com]
`;

let serve: SwitchboardProcess;
let base: string;
let database: TestDatabase | undefined;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // The server runs in another folder than the CLI: relative paths must be the caller's.
  serve = new SwitchboardProcess(
    ["serve"],
    { ...env, LOG_LEVEL: "info", PORT: String(port), SWITCHBOARD_ADMINS: "ops@example.com" },
    undefined,
    { cwd: root },
  );
  await serve.waitFor(`${base}/readyz`, 120_000);
}, 150_000);

afterAll(async () => {
  await serve?.kill();
  await database?.drop();
  rmSync(root, { recursive: true, force: true });
});

/** The agents an API key's person can see, through the running server. */
async function visible(key: string): Promise<string[]> {
  const response = await fetch(`${base}/api/v1/agents`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return (await readJson(response)).items.map((agent: { name: string }) => agent.name);
}

/** A command sent straight to the socket, as a client of our own would: its messages back. */
function rawCommand(argv: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () =>
      resolve(
        text
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line)),
      ),
    );
    socket.write(`${JSON.stringify({ argv, cwd: "/", user: "test" })}\n`);
  });
}

// Every command is a real process (several seconds each on two busy cores), in order.
describe("the CLI beside a running embedded server", { timeout: 240_000 }, () => {
  let ada = "";
  let bob = "";
  let ops = "";

  it("takes commands on a socket in the data dir that only its OS user can open", async () => {
    const stats = statSync(socketPath);
    expect(stats.isSocket()).toBe(true);
    expect(stats.mode & 0o777).toBe(0o600);
    expect(stats.uid).toBe(process.getuid?.());
    // Process commands are refused in words, whoever sends them.
    const migrate = await rawCommand(["migrate", "down"]);
    expect(migrate.at(-1)).toEqual({ exit: 2 });
    expect(migrate[0]?.stderr).toContain(
      "`switchboard migrate` does not run inside the running server",
    );
    const second = await rawCommand(["--config-file", "x.yaml", "serve"]);
    expect(second[0]?.stderr).toContain("`switchboard serve` starts a process of its own");
  });

  it("registers agents and makes keys and grants that the server uses at once", async () => {
    const manifest = join(root, "agents", "triage.yaml");
    mkdirSync(join(root, "agents"));
    writeFileSync(manifest, triage);
    const applied = await cli(["agents", "apply", relative(REPOSITORY, manifest)]);
    expect([applied.code, applied.stdout]).toEqual([0, expect.stringMatching(/^created +triage/m)]);

    const keys = await Promise.all(
      ["Ada@Example.com", "bob@example.com", "ops@example.com"].map((user) =>
        cli(["keys", "create", "--user", user]),
      ),
    );
    [ada, bob, ops] = keys.map((made) => lastLine(made.stdout));
    for (const key of [ada, bob, ops]) expect(key).toMatch(/^sb_live_[\w-]{43}$/);
    expect(await visible(ada)).toEqual(["demo", "triage"]);
    expect(await visible(bob)).toEqual(["demo"]);

    const granted = await cli(["authz", "grant", "bob@example.com", "viewer", "agent:triage"]);
    expect([granted.code, granted.stdout.trim()]).toEqual([
      0,
      "granted: user:bob@example.com viewer agent:triage",
    ]);
    expect(await visible(bob)).toEqual(["demo", "triage"]);
    const checked = await cli(["authz", "check", "bob@example.com", "viewer", "agent:triage"]);
    expect([checked.code, checked.stdout.trim()]).toEqual([0, "allowed"]);
  });

  it("sets and lists budgets, and the server's API shows them", async () => {
    const set = await cli([
      "budgets",
      "set",
      "team:support",
      "--period",
      "month",
      "--amount",
      "25",
      "--mode",
      "hard",
    ]);
    expect([set.code, set.stdout]).toEqual([
      0,
      expect.stringMatching(/^created {2}\S+ {2}team:support {2}\$25\.00 per month {2}hard$/m),
    ]);
    const listed = await cli(["budgets", "list"]);
    expect(listed.stdout).toMatch(/team:support +month +\$25\.00 +hard/);
    const api = await fetch(`${base}/api/v1/budgets`, {
      headers: { authorization: `Bearer ${ops}` },
    });
    expect((await readJson(api)).items).toEqual([
      expect.objectContaining({ scope: "team:support", amount_usd: 25, mode: "hard" }),
    ]);
  });

  it("passes a bad command's error and exit status through, with paths read from the caller's folder", async () => {
    const bad = join(root, "agents", "bad.yaml");
    writeFileSync(bad, triage.replace("view: [user:ada@example.com]", "view: [ada]"));
    const [missing, amount, denied, revoke, invalid] = await Promise.all([
      cli(["agents", "show", "nope"]),
      cli(["budgets", "set", "team:x", "--period", "month", "--amount", "ten", "--mode", "hard"]),
      cli(["authz", "check", "bob@example.com", "runner", "agent:triage"]),
      cli(["sessions", "revoke"]),
      cli(["agents", "apply", relative(REPOSITORY, bad)]),
    ]);
    expect([missing.code, missing.stderr.trim()]).toEqual([
      1,
      'switchboard: The agent "nope" was not found.',
    ]);
    expect([amount.code, amount.stderr]).toEqual([
      1,
      expect.stringContaining('--amount must be a number of US dollars, e.g. 25; got "ten".'),
    ]);
    expect([denied.code, denied.stdout.trim()]).toEqual([1, "denied"]);
    expect([revoke.code, revoke.stderr]).toEqual([
      2,
      expect.stringContaining("give a session id (from `sessions list`) or --user EMAIL"),
    ]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(
      `${relative(REPOSITORY, bad)}:12: spec.access.view[0]: must be user:EMAIL, team:SLUG or user:*`,
    );
    expect(invalid.stderr).toContain("Nothing was applied");
  });

  it("reads a secret's value from the caller's stdin and never shows it", async () => {
    const set = await cli(
      ["secrets", "set", "deploy-key", "--owner", "user:ops@example.com"],
      "s3cret-value\n",
    );
    expect([set.code, set.stdout.trim()]).toEqual([
      0,
      "created   deploy-key (version 1, owner user:ops@example.com)",
    ]);
    const listed = await cli(["secrets", "list"]);
    expect(listed.stdout).toMatch(/deploy-key +user:ops@example\.com +1 /);
    expect(listed.stdout + listed.stderr).not.toContain("s3cret-value");
  });

  it("audits what came over the socket as the CLI, as when it runs on its own", async () => {
    const response = await fetch(`${base}/api/v1/audit?actor=system:cli`, {
      headers: { authorization: `Bearer ${ops}` },
    });
    const entries = (await response.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { actor: string; action: string });
    expect(new Set(entries.map((entry) => entry.actor))).toEqual(new Set(["system:cli"]));
    expect(entries.map((entry) => entry.action)).toEqual(
      expect.arrayContaining([
        "agent.created",
        "api_key.created",
        "budget.created",
        "secret.created",
      ]),
    );
  });

  it("refuses a socket that other users could open", async () => {
    chmodSync(socketPath, 0o666);
    try {
      const refused = await cli(["agents", "list"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("admin socket is not safe to use");
      expect(refused.stderr).toContain(`other OS users may open ${socketPath} (mode 0666)`);
    } finally {
      chmodSync(socketPath, 0o600);
    }
  });

  it("runs directly once the server is killed, and says what to do while a process without a socket holds the data", async () => {
    serve.signal("SIGKILL");
    await serve.exited;
    // kill -9 left its lock and its socket behind; neither stops the CLI.
    expect(existsSync(socketPath)).toBe(true);
    const listed = await cli(["agents", "list"]);
    expect([listed.code, listed.stdout]).toEqual([0, expect.stringMatching(/^triage +enabled/m)]);

    // A live process holds the database but takes no commands (this test's own process
    // stands in for an older server): the CLI names it and says what to do.
    rmSync(socketPath, { force: true });
    const lock = join(dataDir, "switchboard.pid");
    writeFileSync(lock, String(process.pid));
    const longAgo = new Date(Date.now() - 10 * 60_000);
    utimesSync(lock, longAgo, longAgo);
    try {
      const refused = await cli(["keys", "list"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `is in use by process ${process.pid}, which does not take CLI commands`,
      );
      expect(refused.stderr).toContain(`Stop process ${process.pid} and run the command again`);
      expect(refused.stderr).toContain("DATABASE_URL");

      // On PostgreSQL the CLI never looks at the embedded data dir: it runs directly.
      database = await createTestDatabase("cli_serve");
      const onPostgres = await runSwitchboard(["agents", "list"], {
        ...env,
        DATABASE_URL: database.url,
      });
      expect([onPostgres.code, onPostgres.stdout.trim()]).toEqual([
        0,
        "No agents yet. Register one with `switchboard agents apply FILE`.",
      ]);
    } finally {
      rmSync(lock, { force: true });
    }
  });
});
