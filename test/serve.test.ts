import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import { readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { RedisServer } from "./support/redis-server.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

const dataDirs: string[] = [];
function emptyDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-serve-"));
  dataDirs.push(dir);
  return dir;
}

const running: SwitchboardProcess[] = [];
function start(args: string[], env: Record<string, string>): SwitchboardProcess {
  const process = new SwitchboardProcess(args, env);
  running.push(process);
  return process;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

// Each test starts real processes that migrate an empty data dir (and, in one, retry an
// unreachable OpenFGA before giving up): under a loaded 2-core machine that passes 30 s.
describe("switchboard serve on the embedded defaults", { timeout: 90_000 }, () => {
  it("answers /healthz and then /readyz from an empty data dir with nothing configured", async () => {
    const port = await freePort();
    const serve = start(["serve"], { PORT: String(port), SWITCHBOARD_DATA_DIR: emptyDataDir() });
    await serve.waitFor(`http://127.0.0.1:${port}/healthz`);
    await serve.waitFor(`http://127.0.0.1:${port}/readyz`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok" } });
  });

  it("is alive but not ready while its parts open, and exits saying which part failed", async () => {
    const port = await freePort();
    // Nothing listens on this port: OpenFGA is retried for a few seconds, then start-up fails.
    const serve = start(["serve"], {
      PORT: String(port),
      SWITCHBOARD_DATA_DIR: emptyDataDir(),
      OPENFGA_API_URL: `http://127.0.0.1:${await freePort()}`,
    });
    await serve.waitFor(`http://127.0.0.1:${port}/healthz`);
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readJson(readyz)).toMatchObject({ checks: { startup: "down: still starting" } });
    const api = await fetch(`http://127.0.0.1:${port}/api/v1/agents`);
    expect(api.status).toBe(503);
    expect((await readJson(api)).error).toMatchObject({ code: "starting" });

    expect((await serve.exited).code).toBe(1);
    expect(serve.stderr).toContain("Authorization could not start");
  });

  it("stops cleanly on SIGTERM, and a second start finds its data again", async () => {
    const port = await freePort();
    const dataDir = emptyDataDir();
    const first = start(["serve"], { PORT: String(port), SWITCHBOARD_DATA_DIR: dataDir });
    await first.waitFor(`http://127.0.0.1:${port}/readyz`);
    first.signal("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stdout).toContain('"msg":"stopped"');

    const second = start(["serve"], { PORT: String(port), SWITCHBOARD_DATA_DIR: dataDir });
    await second.waitFor(`http://127.0.0.1:${port}/readyz`);
    // The schema was already there: nothing to migrate the second time.
    expect(second.stdout).not.toContain("database migrated");
  });

  it("refuses a second process on the same embedded data dir, naming the holder", async () => {
    const dataDir = emptyDataDir();
    const port = await freePort();
    const first = start(["serve"], { PORT: String(port), SWITCHBOARD_DATA_DIR: dataDir });
    await first.waitFor(`http://127.0.0.1:${port}/readyz`);

    const second = await runSwitchboard(["serve"], {
      PORT: String(await freePort()),
      SWITCHBOARD_DATA_DIR: dataDir,
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`in use by process ${first.pid}`);
    expect(second.stderr).toContain("DATABASE_URL");
  });
});

describe("bad configuration", () => {
  it("exits non-zero naming the variable and what is allowed", async () => {
    const result = await runSwitchboard(["serve"], {
      PORT: "eighty",
      SWITCHBOARD_DATA_DIR: emptyDataDir(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PORT: must be a port number from 0 to 65535 (got "eighty")');
  });

  it("names every bad variable at once", async () => {
    const result = await runSwitchboard(["serve"], {
      LOG_LEVEL: "loud",
      REDIS_URL: "http://127.0.0.1:6379",
      RUNTIME_EGRESS_ALLOW: "agents.corp.internal,10.0.0.0/33",
      SWITCHBOARD_DATA_DIR: emptyDataDir(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent",
    );
    expect(result.stderr).toContain("REDIS_URL: must be a URL starting with redis:// or rediss://");
    expect(result.stderr).toContain('RUNTIME_EGRESS_ALLOW: "10.0.0.0/33" is not a host name');
  });

  it("treats an empty variable as unset", async () => {
    const port = await freePort();
    const serve = start(["serve"], {
      PORT: String(port),
      REDIS_URL: "",
      SWITCHBOARD_DATA_DIR: emptyDataDir(),
    });
    await serve.waitFor(`http://127.0.0.1:${port}/readyz`);
  });
});

describe("/readyz with a configured Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("turns 503 naming redis while Redis is stopped, and 200 once it is back", async () => {
    const port = await freePort();
    const serve = start(["serve"], {
      PORT: String(port),
      REDIS_URL: redis.url,
      SWITCHBOARD_DATA_DIR: emptyDataDir(),
    });
    const readyz = `http://127.0.0.1:${port}/readyz`;
    await serve.waitFor(readyz);

    await redis.stop();
    const down = await eventually(async () => {
      const response = await fetch(readyz);
      expect(response.status).toBe(503);
      return response.json();
    });
    expect(down).toMatchObject({
      status: "unavailable",
      checks: { database: "ok", redis: expect.stringMatching(/^down: /) },
      error: { code: "service_unavailable", message: "Not ready: redis is down." },
    });

    await redis.startProcess();
    await eventually(async () => {
      const response = await fetch(readyz);
      expect(response.status).toBe(200);
    });
  });
});
