import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const here = dirname(fileURLToPath(import.meta.url));

function has(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** wrk and curl from Debian; installed when missing and we may (root), else named. */
export function ensureTools(): void {
  const missing = ["wrk", "curl"].filter((c) => !has(c));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `the bench needs ${missing.join(" and ")}: apt-get install -y ${missing.join(" ")}`,
    );
  }
  console.log(`installing ${missing.join(", ")} from Debian…`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit" });
}

/**
 * The Portkey gateway, installed from bench/proxy's own lockfile into a cache folder outside
 * the source tree: a node_modules under bench/ would put its dependencies' *.test.ts files in
 * the project's vitest run. Reinstalled only when the lockfile changes.
 */
export function ensurePortkey(): string {
  const cache = join(
    process.env.XDG_CACHE_HOME || join(homedir(), ".cache"),
    "switchboard",
    "bench-proxy",
  );
  const lock = readFileSync(join(here, "package-lock.json"));
  const digest = createHash("sha256")
    .update(lock)
    .update(readFileSync(join(here, "package.json")))
    .digest("hex");
  const stamp = join(cache, ".lock-digest");
  const entry = join(cache, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
  if (existsSync(entry) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest)
    return entry;
  console.log(`installing the Portkey gateway into ${cache}…`);
  mkdirSync(cache, { recursive: true });
  copyFileSync(join(here, "package.json"), join(cache, "package.json"));
  copyFileSync(join(here, "package-lock.json"), join(cache, "package-lock.json"));
  // --ignore-scripts: its postinstall runs patch-package, and it ships no patches.
  execFileSync("npm", ["ci", "--prefix", cache, "--no-audit", "--no-fund", "--ignore-scripts"], {
    stdio: "inherit",
  });
  writeFileSync(stamp, digest);
  return entry;
}

/**
 * A database of its own on the PostgreSQL the tests use (or BENCH_DATABASE_URL), so the
 * proxy runs with a virtual key and writes its ledger as in production; none when no
 * server answers.
 */
export async function benchDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin =
    process.env.BENCH_DATABASE_URL ||
    process.env.TEST_DATABASE_URL ||
    "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `sb_bench_${process.pid}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query(`create database "${name}"`);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}
