/**
 * Time from starting `switchboard serve` on the embedded defaults to its first answer on
 * /healthz: on an empty data dir (the embedded database is created) and on an existing one.
 *   npx tsx bench/startup/run.ts [rounds]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/support/ports.js";
import { SwitchboardProcess } from "../../test/support/switchboard-process.js";

const rounds = Number(process.argv[2] ?? 3);

async function timeToHealthy(dataDir: string): Promise<number> {
  const port = await freePort();
  const serve = new SwitchboardProcess(["serve"], {
    PORT: String(port),
    SWITCHBOARD_DATA_DIR: dataDir,
  });
  try {
    return await serve.waitFor(`http://127.0.0.1:${port}/healthz`, 60_000);
  } finally {
    serve.signal("SIGTERM");
    await serve.exited;
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const fresh: number[] = [];
const existing: number[] = [];
for (let round = 0; round < rounds; round++) {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-startup-"));
  try {
    fresh.push(await timeToHealthy(dir));
    existing.push(await timeToHealthy(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log("| data dir | rounds | median ms | max ms |");
console.log("| --- | --- | --- | --- |");
console.log(`| empty (first start) | ${rounds} | ${median(fresh)} | ${Math.max(...fresh)} |`);
console.log(`| existing | ${rounds} | ${median(existing)} | ${Math.max(...existing)} |`);
