/**
 * Time from starting `switchboard serve` on the embedded defaults to its first answer on
 * /healthz, and to /readyz (database, migrations and authorization open): on an empty data
 * dir (the embedded database is created) and on an existing one.
 *   npx tsx bench/startup/run.ts [rounds]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/support/ports.js";
import { SwitchboardProcess } from "../../test/support/switchboard-process.js";

const rounds = Number(process.argv[2] ?? 3);

/** Milliseconds from spawning to /healthz answering (process up) and to /readyz (everything open). */
async function timeToHealthy(dataDir: string): Promise<[number, number]> {
  const port = await freePort();
  const started = Date.now();
  const serve = new SwitchboardProcess(["serve"], {
    PORT: String(port),
    SWITCHBOARD_DATA_DIR: dataDir,
  });
  try {
    await serve.waitFor(`http://127.0.0.1:${port}/healthz`, 60_000);
    const healthy = Date.now() - started;
    await serve.waitFor(`http://127.0.0.1:${port}/readyz`, 60_000);
    return [healthy, Date.now() - started];
  } finally {
    serve.signal("SIGTERM");
    await serve.exited;
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const fresh: [number, number][] = [];
const existing: [number, number][] = [];
for (let round = 0; round < rounds; round++) {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-startup-"));
  try {
    fresh.push(await timeToHealthy(dir));
    existing.push(await timeToHealthy(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  "| data dir | rounds | /healthz median ms | /healthz max ms | /readyz median ms | /readyz max ms |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const [label, times] of [
  ["empty (first start)", fresh],
  ["existing", existing],
] as const) {
  const healthz = times.map(([h]) => h);
  const readyz = times.map(([, r]) => r);
  console.log(
    `| ${label} | ${rounds} | ${median(healthz)} | ${Math.max(...healthz)} | ${median(readyz)} | ${Math.max(...readyz)} |`,
  );
}
