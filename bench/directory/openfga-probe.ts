/**
 * What the OpenFGA server itself takes to answer the directory's questions, without
 * Switchboard in between:
 *   npx tsx bench/directory/openfga-probe.ts [--db URL] [--model FILE] [--runs N] [-- FLAGS…]
 *
 * Seeds the directory bench's tuples (10,000 agents, 47,000 tuples) into an OpenFGA server on
 * a PostgreSQL datastore (a database of its own from TEST_DATABASE_URL, or `--db`, kept and
 * seeded once so several settings can be compared), starts the server with FLAGS, and times
 * for the bench user: single Checks (allowed through a team, allowed directly, denied), a
 * BatchCheck of 50 and of 200 consecutive agents, ListObjects and StreamedListObjects.
 */

import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { ConsistencyPreference, OpenFgaClient } from "@openfga/sdk";
import knexFactory from "knex";
import { loadPolicyModel, OpenFgaAuthorizer } from "../../authz/index.js";
import { findOpenFgaBinary, OpenFgaServer } from "../../test/support/openfga-server.js";
import { createTestDatabase } from "../../test/support/postgres.js";
import { BENCH_USER, buildDirectoryDataset } from "./dataset.js";

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 && at < args.indexOf("--") ? args[at + 1] : undefined;
};
if (!args.includes("--")) args.push("--");
const flags = args.slice(args.indexOf("--") + 1);
const runs = Number(option("--runs") ?? 20);
const modelDsl = option("--model")
  ? readFileSync(option("--model") as string, "utf8")
  : loadPolicyModel();
const user = `user:${BENCH_USER}`;

const binary = findOpenFgaBinary().path;
if (!binary) throw new Error("the OpenFGA server is not installed");
const database = option("--db") ?? (await createTestDatabase("fga_probe")).url;
console.error(`datastore: ${database}`);
const server = await OpenFgaServer.start(binary, { postgresUrl: database, flags });

async function time(label: string, work: () => Promise<number>): Promise<void> {
  let size = await work();
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    size = await work();
    wall.push(performance.now() - start);
  }
  wall.sort((a, b) => a - b);
  const at = (q: number) => (wall[Math.min(runs - 1, Math.floor(runs * q))] ?? 0).toFixed(1);
  console.log(
    `${label.padEnd(44)} ${String(size).padStart(5)}   p50 ${at(0.5).padStart(7)}   p95 ${at(0.95).padStart(7)} ms`,
  );
}

try {
  const authorizer = await OpenFgaAuthorizer.connect({ apiUrl: server.url, modelDsl });
  const client = new OpenFgaClient({
    apiUrl: server.url,
    storeId: authorizer.storeId,
    authorizationModelId: authorizer.modelId,
  });
  const seeded = await client.read({}, { pageSize: 1 });
  if (seeded.tuples.length === 0) {
    const { tuples } = buildDirectoryDataset();
    const started = performance.now();
    const chunks: (typeof tuples)[] = [];
    for (let i = 0; i < tuples.length; i += 100) chunks.push(tuples.slice(i, i + 100));
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let chunk = chunks.shift(); chunk; chunk = chunks.shift())
          await authorizer.write(chunk);
      }),
    );
    const knex = knexFactory({ client: "pg", connection: database });
    await knex.raw("analyze");
    await knex.destroy();
    console.error(
      `seeded ${tuples.length} tuples in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  console.log(
    `flags: ${flags.join(" ") || "(defaults)"}; load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const agent = (n: number) => `agent:agent-${String(n).padStart(5, "0")}`;
  const consistency = process.env.PROBE_HIGHER
    ? ConsistencyPreference.HigherConsistency
    : ConsistencyPreference.MinimizeLatency;
  const check = (object: string) => async () =>
    (await client.check({ user, relation: "viewer", object }, { consistency })).allowed ? 1 : 0;
  await time("Check viewer, allowed through a team", check(agent(10)));
  await time("Check viewer, allowed directly", check(agent(5)));
  await time("Check viewer, denied", check(agent(1)));
  const batch = (from: number, count: number) => async () => {
    const checks = Array.from({ length: count }, (_, i) => ({
      user,
      relation: "viewer",
      object: agent(from + i),
      correlationId: String(i),
    }));
    const response = await client.batchCheck({ checks }, { consistency });
    return response.result.filter((r) => r.allowed).length;
  };
  await time("BatchCheck viewer × 50", batch(100, 50));
  await time("BatchCheck viewer × 200 (4 requests)", batch(300, 200));
  await time(
    "ListObjects viewer agent",
    async () =>
      (await client.listObjects({ user, relation: "viewer", type: "agent" }, { consistency }))
        .objects.length,
  );
  await time("StreamedListObjects viewer agent", async () => {
    let n = 0;
    for await (const _ of client.streamedListObjects(
      { user, relation: "viewer", type: "agent" },
      { consistency },
    ))
      n++;
    return n;
  });
  const admin = "user:admin@example.com";
  await authorizer.write([{ user: admin, relation: "admin", object: "platform:switchboard" }]);
  await time("StreamedListObjects viewer agent, platform admin", async () => {
    let n = 0;
    for await (const _ of client.streamedListObjects(
      { user: admin, relation: "viewer", type: "agent" },
      { consistency },
    ))
      n++;
    return n;
  });
  await time("StreamedListObjects runner agent", async () => {
    let n = 0;
    for await (const _ of client.streamedListObjects(
      { user, relation: "runner", type: "agent" },
      { consistency },
    ))
      n++;
    return n;
  });
} finally {
  await server.stop();
}
