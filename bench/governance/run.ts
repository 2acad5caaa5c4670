/**
 * What admission adds to a run's dispatch: the same API request to agent-receiving-the-turn
 * loop as bench/runs (one run at a time, BullMQ: serve + 1 worker, PostgreSQL, Redis), with
 * no budgets, then with the four budgets that apply to every run (its team, agent, person
 * and the platform; amounts no run reaches) over a month of ledger rows for its agent and
 * person. Admission then locks the four budget rows, reads each one's spend for its period
 * (from the ledger's running totals), its reservations and raises in one statement, and
 * writes four reservations, in one transaction; the run's close gives them back.
 *
 *   npx tsx bench/governance/run.ts [--quick] [--rows N]
 */
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { runSwitchboard } from "../../test/support/switchboard-process.js";
import { BenchAgent } from "../runs/agent.js";
import { AGENT_NAME, Deployment, USER } from "../runs/deployment.js";

const quick = process.argv.includes("--quick");
const WARMUP = quick ? 10 : 30;
const SAMPLES = quick ? 100 : 300;
/** Ledger rows of the month (the agent's and the person's spend the budgets sum). */
const rowsArg = process.argv.indexOf("--rows");
const LEDGER_ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : quick ? 20_000 : 100_000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
const ms = (value: number) => value.toFixed(1);

interface Figures {
  label: string;
  answered: number[];
  dispatched: number[];
}

async function measure(label: string, budgets: boolean): Promise<Figures> {
  const agent = await BenchAgent.start();
  const deployment = await Deployment.create("bullmq", agent.url);
  const figures: Figures = { label, answered: [], dispatched: [] };
  try {
    if (budgets) await addBudgets(deployment);
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const started = performance.now();
      const run = await deployment.startRun(`admission ${i}`);
      const answeredAt = performance.now();
      const arrival = await agent.waitFor(run.id, 60_000);
      let detail = await deployment.getRun(run.id);
      while (detail.status !== "succeeded") {
        await sleep(2);
        detail = await deployment.getRun(run.id);
      }
      if (i < WARMUP) continue;
      figures.answered.push(answeredAt - started);
      figures.dispatched.push(arrival.at - started);
    }
  } finally {
    await deployment.close();
    await agent.close();
  }
  return figures;
}

/** Four budgets on every run, and a month of spend for them to sum. */
async function addBudgets(deployment: Deployment): Promise<void> {
  for (const scope of ["team:bench", `agent:${AGENT_NAME}`, `user:${USER}`, "platform"]) {
    const set = await runSwitchboard(
      ["budgets", "set", scope, "--period", "month", "--amount", "1000000", "--mode", "hard"],
      deployment.env,
    );
    if (set.code !== 0) throw new Error(`budgets set failed: ${set.stderr}`);
  }
  const db = new pg.Client({ connectionString: deployment.database?.url });
  await db.connect();
  try {
    await db.query(
      `insert into ledger (occurred_at, source, agent_id, user_id, model, cost_usd, dedupe_key)
       select date_trunc('month', now()) + (g % 25) * interval '1 day' + g * interval '1 ms',
              'proxy', a.id, u.id, 'gpt-4o', 0.001, 'bench-' || g
         from generate_series(1, $1) as g,
              (select id from agents where name = $2) as a,
              (select id from users where email = $3) as u`,
      [LEDGER_ROWS, AGENT_NAME, USER],
    );
    await db.query("analyze ledger");
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const off = await measure("budgets off", false);
  const on = await measure(
    `4 budgets on, ${LEDGER_ROWS.toLocaleString("en")} ledger rows this month`,
    true,
  );
  const [load1] = loadavg();
  console.log(
    `\n## Admission: API request to the agent receiving the turn, BullMQ (ms, ${SAMPLES} runs one at a time; load average ${load1?.toFixed(2)})\n`,
  );
  console.log("| budgets | agent received p50 | p99 | API answered p50 | p99 |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const f of [off, on]) {
    console.log(
      `| ${f.label} | ${ms(percentile(f.dispatched, 50))} | ${ms(percentile(f.dispatched, 99))} | ${ms(percentile(f.answered, 50))} | ${ms(percentile(f.answered, 99))} |`,
    );
  }
  console.log(
    `\nAdmission adds (p50 / p99 of the agent receiving the turn): ${ms(percentile(on.dispatched, 50) - percentile(off.dispatched, 50))} / ${ms(percentile(on.dispatched, 99) - percentile(off.dispatched, 99))} ms`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
