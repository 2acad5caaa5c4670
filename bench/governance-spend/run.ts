import { loadavg } from "node:os";
import { migrateLatest, openDatabase } from "../../app/db/index.js";
import { createHttpApp, createHttpMetrics, startHttpServer } from "../../app/http/index.js";
import { createLogger } from "../../app/logger.js";
import {
  AccessPolicy,
  EmbeddedAuthorizer,
  loadPolicyModel,
  PLATFORM,
  UserDirectory,
} from "../../authz/index.js";
import {
  API_BASE,
  createDefaultDirectoryApi,
  createDirectoryServices,
} from "../../directory/index.js";
import { SpendService } from "../../governance/index.js";
import { createTestDatabase } from "../../test/support/postgres.js";
import { measure } from "../directory/measure.js";

/**
 * The spend API over a year of ledger rows for 500 people and 200 agents (40 teams), on
 * PostgreSQL: `GET /api/v1/spend` through a real HTTP server (API key, access check, the
 * query, JSON), one request at a time after a warm-up. The target: a month grouped by team
 * answers within 200 ms at p95.
 *
 *   npx tsx bench/governance-spend/run.ts [--rows N] [--quick]
 */

const args = process.argv.slice(2);
const ROWS = Number(args[args.indexOf("--rows") + 1] || 0) || 2_000_000;
const QUICK = args.includes("--quick");
/** Keeps the database afterwards (its URL is printed), to look at plans by hand. */
const KEEP = args.includes("--keep");
const PEOPLE = 500;
const AGENTS = 200;
const TEAMS = 40;

async function main(): Promise<void> {
  const database = await createTestDatabase("bench_spend");
  const db = await openDatabase({ url: database.url, dataDir: "" });
  try {
    await migrateLatest(db);
    const knex = db.knex;
    const authorizer = await EmbeddedAuthorizer.open({ knex, modelDsl: loadPolicyModel() });
    const access = new AccessPolicy(authorizer, 5_000);
    const services = createDirectoryServices({ knex, authorizer, access });

    const seeding = performance.now();
    await knex("teams").insert(
      Array.from({ length: TEAMS }, (_, t) => ({ slug: `team-${t}`, name: `Team ${t}` })),
    );
    const users = new UserDirectory(knex);
    const userIds: string[] = [];
    for (let p = 0; p < PEOPLE; p += 1)
      userIds.push((await users.ensureUser(`person-${p}@example.com`)).id);
    const agentIds = (
      await knex("agents")
        .insert(
          Array.from({ length: AGENTS }, (_, a) => ({
            name: `agent-${a}`,
            title: `Agent ${a}`,
            owner: `team:team-${a % TEAMS}`,
            runtime_type: ["a2a", "http", "claude_managed_agents", "n8n"][a % 4],
            manifest: {},
            manifest_digest: `d${a}`,
          })),
        )
        .returning("id")
    ).map((row: { id: string }) => row.id);
    await authorizer.write([
      { user: "user:person-0@example.com", relation: "admin", object: PLATFORM },
      { user: "user:person-1@example.com", relation: "admin", object: "team:team-1" },
    ]);
    // A year to today, spread evenly; each run has two rows (its runtime's, a proxy call).
    await knex.raw(
      `insert into ledger (occurred_at, source, agent_id, runtime, model, user_id, run_id,
         input_tokens, output_tokens, cost_usd, dedupe_key)
       select now() - interval '365 days' * (i::float8 / ?),
         case when i % 2 = 0 then 'runtime' else 'proxy' end,
         (?::uuid[])[1 + ((i / 2) * 7) % ?],
         case when i % 2 = 0 then (array['a2a','http','claude_managed_agents','n8n'])[1 + i % 4] end,
         (array['gpt-4o','gpt-4o-mini','claude-sonnet','claude-haiku','llama-3'])[1 + (i / 3) % 5],
         (?::uuid[])[1 + ((i / 2) * 13) % ?],
         md5((i / 2)::text)::uuid,
         100 + i % 900, 20 + i % 300, round((0.0001 + (i % 997) / 997.0 * 0.2)::numeric, 8),
         'bench-' || i
       from generate_series(1, ?) as i`,
      [ROWS, `{${agentIds.join(",")}}`, AGENTS, `{${userIds.join(",")}}`, PEOPLE, ROWS],
    );
    await knex.raw("vacuum analyze ledger");
    // The spend views read the ledger's running totals, filled by the ledger's insert trigger.
    for (const table of ["spend_daily", "spend_daily_agents", "spend_daily_users", "spend_runs"]) {
      await knex.raw(`vacuum analyze ${table}`);
    }
    const seededSeconds = (performance.now() - seeding) / 1000;

    const keyOf = async (p: number) =>
      (
        await services.keys.create(
          { userId: userIds[p] as string, userEmail: `person-${p}@example.com` },
          "bench",
        )
      ).key;
    const [admin, teamAdmin, person] = [await keyOf(0), await keyOf(1), await keyOf(7)];
    const app = createHttpApp({
      logger: createLogger({ level: "silent" }),
      metrics: createHttpMetrics(),
      checks: () => [],
      isStopping: () => false,
      mount: (app) =>
        app.use(
          API_BASE,
          createDefaultDirectoryApi(services, [], undefined, undefined, {
            spend: new SpendService(knex, access),
          }),
        ),
    });
    const server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });

    const today = new Date();
    const monthAgo = new Date(today.getTime() - 30 * 86_400_000);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const month = `from=${day(monthAgo)}&to=${day(today)}`;
    const year = `from=${day(new Date(today.getTime() - 364 * 86_400_000))}&to=${day(today)}`;
    const cases: [string, string, string][] = [
      ["a month by team (platform admin)", admin, `group_by=team&${month}`],
      ["a month by person", admin, `group_by=user&${month}`],
      ["a month by agent", admin, `group_by=agent&${month}`],
      ["a month by model", admin, `group_by=model&${month}`],
      ["a month by person, one team", admin, `group_by=user&team=team-3&${month}`],
      ["a month by agent (a team's admin)", teamAdmin, `group_by=agent&${month}`],
      ["a month by model (one person, own spend)", person, `group_by=model&${month}`],
      ["a year by team (platform admin)", admin, `group_by=team&${year}`],
    ];
    const [{ n }] = await knex("ledger").where("occurred_at", ">=", monthAgo).count({ n: "*" });
    console.log(
      `ledger: ${ROWS.toLocaleString("en-US")} rows over a year (${Number(n).toLocaleString("en-US")} in the month), ${PEOPLE} people, ${AGENTS} agents, ${TEAMS} teams; seeded in ${seededSeconds.toFixed(0)} s; load ${loadavg()[0]?.toFixed(2)}`,
    );
    console.log("| request | p50 ms | p95 ms | p99 ms | n |");
    console.log("| --- | ---: | ---: | ---: | ---: |");
    for (const [label, key, query] of cases) {
      const request = async () => {
        const response = await fetch(`${server.url}${API_BASE}/spend?${query}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        await response.arrayBuffer();
        return { status: response.status };
      };
      const yearly = label.startsWith("a year");
      const latency = await measure(request, {
        warmUp: 3,
        iterations: QUICK || yearly ? 15 : 60,
      });
      console.log(
        `| ${label} | ${latency.p50.toFixed(1)} | ${latency.p95.toFixed(1)} | ${latency.p99.toFixed(1)} | ${latency.count} |`,
      );
    }
    const sizes: string[] = [];
    for (const table of ["spend_daily", "spend_daily_agents", "spend_daily_users"]) {
      const [size] = (
        await knex.raw(
          `select count(*) filter (where day >= ?) as month, count(*) as year from ${table}`,
          [day(monthAgo)],
        )
      ).rows as { month: string; year: string }[];
      const n = (v: unknown) => Number(v).toLocaleString("en-US");
      sizes.push(`${table} ${n(size?.year)} (${n(size?.month)} in the month)`);
    }
    console.log(`\nthe running totals' rows: ${sizes.join("; ")}`);
    await server.close(100);
    await authorizer.close();
  } finally {
    await db.close();
    if (KEEP) console.log(`kept: ${database.url}`);
    else await database.drop();
  }
}

await main();
