import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { AgentUsage } from "./index.js";

/** Usage figures on the embedded database (PGlite), from rows as the runs engine writes them. */

const NOW = new Date("2026-11-24T10:00:00Z");
const daysAgo = (n: number, hour = 12) => new Date(Date.UTC(2026, 10, 24 - n, hour, 0, 0));

describe("AgentUsage on PGlite", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-usage-"));
  let db: Database;
  let usage: AgentUsage;
  const ids = {
    user: randomUUID(),
    triage: randomUUID(),
    invoices: randomUUID(),
    idle: randomUUID(),
  };
  let session = "";

  async function run(agentId: string, at: Date, costUsd = 0): Promise<void> {
    const [row] = await db
      .knex("runs")
      .insert({
        session_id: session,
        agent_id: agentId,
        user_id: ids.user,
        status: "succeeded",
        input: "hi",
        cost_usd: costUsd,
        created_at: at,
      })
      .returning("id");
    if (costUsd > 0) {
      await db.knex("ledger").insert({
        source: "runtime",
        agent_id: agentId,
        runtime: "a2a",
        model: "claude-sonnet",
        user_id: ids.user,
        run_id: row.id,
        input_tokens: 100,
        output_tokens: 50,
        cost_usd: costUsd,
        occurred_at: at,
      });
    }
  }

  beforeAll(async () => {
    db = await openDatabase({ dataDir: join(dir, "data") });
    await migrateLatest(db);
    await db.knex("users").insert({ id: ids.user, email: "ada@example.com" });
    for (const [name, id] of Object.entries(ids).filter(([key]) => key !== "user")) {
      await db.knex("agents").insert({
        id,
        name,
        title: name,
        owner: "team:support",
        runtime_type: "a2a",
        manifest: {},
        manifest_digest: name,
      });
    }
    [{ id: session }] = await db
      .knex("sessions")
      .insert({ agent_id: ids.triage, user_id: ids.user, surface: "site", conversation_key: "k" })
      .returning("id");
    await run(ids.triage, daysAgo(0, 1), 0.25);
    await run(ids.triage, daysAgo(0, 9), 0.5);
    await run(ids.triage, daysAgo(3), 0.125);
    await run(ids.triage, daysAgo(29, 0)); // the first day of the window, at midnight UTC
    await run(ids.triage, daysAgo(30, 23)); // the day before: outside
    await run(ids.invoices, daysAgo(2));
    // A model call the agent made through the proxy: spend without a run.
    await db.knex("ledger").insert({
      source: "proxy",
      agent_id: ids.triage,
      runtime: null,
      model: "gpt-4o",
      input_tokens: 1000,
      output_tokens: 10,
      cost_usd: 1,
      occurred_at: daysAgo(1),
    });
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts runs and spend per UTC day over the last 30 days, zero-filled, oldest first", async () => {
    usage = new AgentUsage(db.knex);
    const report = await usage.forAgent(ids.triage, { now: NOW });
    expect(report.days).toHaveLength(30);
    expect(report.days[0]).toEqual({ day: "2026-10-26", runs: 1, costUsd: 0 });
    expect(report.days.at(-1)).toEqual({ day: "2026-11-24", runs: 2, costUsd: 0.75 });
    expect(report.days.find((d) => d.day === "2026-11-23")).toEqual({
      day: "2026-11-23",
      runs: 0,
      costUsd: 1,
    });
    expect(report.days.find((d) => d.day === "2026-11-21")?.costUsd).toBe(0.125);
    expect(report.totals).toEqual({ runs: 4, costUsd: 1.875 });
  });

  it("breaks spend down by runtime and model, biggest first", async () => {
    const report = await usage.forAgent(ids.triage, { now: NOW });
    expect(report.byRuntimeModel).toEqual([
      { runtime: null, model: "gpt-4o", inputTokens: 1000, outputTokens: 10, costUsd: 1 },
      {
        runtime: "a2a",
        model: "claude-sonnet",
        inputTokens: 300,
        outputTokens: 150,
        costUsd: 0.875,
      },
    ]);
  });

  it("answers an agent nobody used with thirty empty days", async () => {
    const report = await usage.forAgent(ids.idle, { now: NOW });
    expect(report.days.every((d) => d.runs === 0 && d.costUsd === 0)).toBe(true);
    expect(report.totals).toEqual({ runs: 0, costUsd: 0 });
    expect(report.byRuntimeModel).toEqual([]);
  });

  it("counts runs of many agents in one grouped query, leaving out agents without runs", async () => {
    const queries: string[] = [];
    const listen = (q: { sql: string }) => queries.push(q.sql);
    db.knex.on("query", listen);
    const counts = await usage.runCounts([ids.triage, ids.invoices, ids.idle], { now: NOW });
    db.knex.off("query", listen);
    expect(Object.fromEntries(counts)).toEqual({ [ids.triage]: 4, [ids.invoices]: 1 });
    expect(queries).toHaveLength(1);
    expect(await usage.runCounts([], { now: NOW })).toEqual(new Map());
  });
});
