/**
 * One Switchboard to measure: a real `switchboard serve` on the seeded database, with the
 * bench user signed in through the trusted-header mode (it works on every backend, unlike
 * the development form, which PostgreSQL deployments do not offer).
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenFgaServer } from "../../test/support/openfga-server.js";
import { freePort } from "../../test/support/ports.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { SwitchboardProcess } from "../../test/support/switchboard-process.js";
import { BENCH_USER, type BenchDataset } from "./dataset.js";
import { seed } from "./seed.js";

/** Linux's USER_HZ: /proc counts CPU time in hundredths of a second. */
const CLOCK_TICKS = 100;

export type Backend = "pglite" | "postgres" | "postgres + openfga";

export class BenchDeployment {
  cookie = "";

  private constructor(
    readonly backend: Backend,
    readonly base: string,
    private readonly process: SwitchboardProcess,
    private readonly cleanUp: () => Promise<void>,
  ) {}

  static async start(
    backend: Backend,
    dataset: BenchDataset,
    options: { openFgaBinary?: string | undefined } = {},
  ): Promise<BenchDeployment> {
    const dir = mkdtempSync(join(tmpdir(), "switchboard-bench-directory-"));
    let database: TestDatabase | undefined;
    let openfga: OpenFgaServer | undefined;
    let openfgaDatabase: TestDatabase | undefined;
    let serve: SwitchboardProcess | undefined;
    const cleanUp = async () => {
      await serve?.kill();
      await openfga?.stop();
      await openfgaDatabase?.drop();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      if (backend !== "pglite") database = await createTestDatabase("bench_dir");
      if (backend === "postgres + openfga") {
        if (!options.openFgaBinary) throw new Error("the OpenFGA server is not installed");
        openfgaDatabase = await createTestDatabase("bench_fga");
        openfga = await OpenFgaServer.start(options.openFgaBinary, {
          postgresUrl: openfgaDatabase.url,
        });
      }
      const seeding = performance.now();
      await seed({ databaseUrl: database?.url, dataDir: dir, openFgaUrl: openfga?.url }, dataset);
      const seededMs = performance.now() - seeding;
      const port = await freePort();
      serve = new SwitchboardProcess(["serve"], {
        LOG_LEVEL: "warn",
        HOST: "127.0.0.1",
        PORT: String(port),
        SWITCHBOARD_DATA_DIR: join(dir, "data"),
        AUTH_TRUSTED_HEADER: "x-forwarded-email",
        AUTH_TRUSTED_PROXIES: "127.0.0.1",
        ...(database ? { DATABASE_URL: database.url } : {}),
        // Measured, not cut short: past the default 2 s a slow answer would be a 503.
        ...(openfga ? { OPENFGA_API_URL: openfga.url, OPENFGA_TIMEOUT_MS: "20000" } : {}),
      });
      const base = `http://127.0.0.1:${port}`;
      await serve.waitFor(`${base}/readyz`, 120_000);
      const deployment = new BenchDeployment(backend, base, serve, cleanUp);
      await deployment.signIn();
      console.error(
        `  ${backend}: seeded in ${(seededMs / 1000).toFixed(1)} s, serving on ${base}`,
      );
      return deployment;
    } catch (error) {
      if (serve) console.error(serve.stderr);
      await cleanUp();
      throw error;
    }
  }

  private async signIn(): Promise<void> {
    // The sign-in page: a route that lists nothing, so signing in cannot time out.
    const response = await fetch(`${this.base}/sign-in`, {
      headers: { "x-forwarded-email": BENCH_USER },
      redirect: "manual",
    });
    if (response.status !== 303) throw new Error(`signing in answered ${response.status}`);
    await response.arrayBuffer();
    this.cookie = response.headers.get("set-cookie")?.split(";")[0] ?? "";
  }

  /**
   * A signed-in GET, through the "SSO proxy" (the header on every request, as a proxy sends
   * it: a header session is re-checked each time); the body is read whole and returned.
   */
  async get(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.base}${path}`, {
      headers: { cookie: this.cookie, "x-forwarded-email": BENCH_USER },
      redirect: "manual",
    });
    return { status: response.status, body: await response.text() };
  }

  /**
   * CPU seconds the serve process has used (user + system, from /proc): what a request costs
   * the server whatever else the machine is busy with. On PostgreSQL the database's own work
   * is in its processes, not here.
   */
  cpuSeconds(): number {
    if (this.process.pid === undefined) return Number.NaN;
    try {
      const fields =
        readFileSync(`/proc/${this.process.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return Number.NaN;
    }
  }

  /** The end of what serve logged (warnings and errors), for a failure's report. */
  logTail(): string {
    return `${this.process.stdout}${this.process.stderr}`.slice(-3000);
  }

  close(): Promise<void> {
    return this.cleanUp();
  }
}
