import type { Knex } from "knex";
import { type AccessPolicy, type Authorizer, PLATFORM, UserDirectory } from "../../authz/index.js";
import { type DirectoryServices, validateManifest } from "../../directory/index.js";

/**
 * A small company's ledger for spend tests: two teams with their agents, people in each, a
 * platform admin, and rows written as the runs engine and the proxy write them (runtime rows
 * without a team, a proxy row booked to a team, a row with no agent, one outside the range).
 *
 * - support (admin tess, member carol) owns `triage`; research (admin rita) owns `invoices`;
 *   ada is a platform admin and owns `adas-bot` herself; bob belongs to no team.
 */
export const PEOPLE = ["ada", "tess", "carol", "rita", "bob"] as const;
export type Person = (typeof PEOPLE)[number];
export const email = (who: Person) => `${who}@example.com`;

export interface LedgerRowSpec {
  day: string;
  who: Person;
  agent: "triage" | "invoices" | "adas-bot" | null;
  runtime: string | null;
  model: string | null;
  cost: number;
  /** Same run id for rows of one run (a run's runtime row and its proxy calls). */
  run: string | null;
  /** Booked to a team explicitly (as the proxy does when its key names one). */
  team?: "support" | "research";
}

/** Costs are exact in binary (eighths and sixteenths), so sums compare exactly. */
export const ROWS: LedgerRowSpec[] = [
  {
    day: "2026-11-02",
    who: "carol",
    agent: "triage",
    runtime: "a2a",
    model: "claude-sonnet",
    cost: 1.25,
    run: "r1",
  },
  {
    day: "2026-11-02",
    who: "carol",
    agent: "triage",
    runtime: null,
    model: "gpt-4o",
    cost: 0.5,
    run: "r1",
  },
  {
    day: "2026-11-03",
    who: "tess",
    agent: "triage",
    runtime: "a2a",
    model: "claude-sonnet",
    cost: 2,
    run: "r2",
  },
  {
    day: "2026-11-03",
    who: "bob",
    agent: "triage",
    runtime: "a2a",
    model: "claude-haiku",
    cost: 0.125,
    run: "r3",
  },
  {
    day: "2026-11-05",
    who: "rita",
    agent: "invoices",
    runtime: "http",
    model: "gpt-4o",
    cost: 3.5,
    run: "r4",
  },
  {
    day: "2026-11-05",
    who: "bob",
    agent: "invoices",
    runtime: "http",
    model: "gpt-4o",
    cost: 0.75,
    run: "r5",
  },
  {
    day: "2026-11-07",
    who: "ada",
    agent: "adas-bot",
    runtime: "demo",
    model: null,
    cost: 0.0625,
    run: "r6",
  },
  // A proxy call booked to research although its agent is support's: the booking wins.
  {
    day: "2026-11-07",
    who: "carol",
    agent: "triage",
    runtime: null,
    model: "gpt-4o-mini",
    cost: 0.25,
    run: "r7",
    team: "research",
  },
  // A model call with no agent and no run (a person's own proxy key).
  {
    day: "2026-11-09",
    who: "bob",
    agent: null,
    runtime: null,
    model: "gpt-4o",
    cost: 0.375,
    run: null,
  },
  // Outside 2026-11-01..2026-11-30: never counted in November.
  {
    day: "2026-10-31",
    who: "carol",
    agent: "triage",
    runtime: "a2a",
    model: "claude-sonnet",
    cost: 8,
    run: "r8",
  },
  {
    day: "2026-12-01",
    who: "bob",
    agent: "invoices",
    runtime: "http",
    model: "gpt-4o",
    cost: 16,
    run: "r9",
  },
];

const AGENT_OWNERS = {
  triage: "team:support",
  invoices: "team:research",
  "adas-bot": "user:ada@example.com",
} as const;

/** The team a row counts against: its booking, else its agent's owning team. */
export function teamOf(row: LedgerRowSpec): string | null {
  if (row.team) return row.team;
  const owner = row.agent ? AGENT_OWNERS[row.agent] : undefined;
  return owner?.startsWith("team:") ? owner.slice(5) : null;
}

/**
 * Sums the rows in November by `key`, as the spend API should: the cost of every row, and
 * each run once, in the group of its first row (the ledger's running totals count a run at
 * its first booking; the rows are booked in this order), when that row is in November.
 */
export function expectedNovember(key: (row: LedgerRowSpec) => string | null) {
  const november = (row: LedgerRowSpec) => row.day.startsWith("2026-11");
  const firstOfRun = new Map<string, LedgerRowSpec>();
  for (const row of ROWS) if (row.run && !firstOfRun.has(row.run)) firstOfRun.set(row.run, row);
  const groups = new Map<string | null, { cost: number; runs: number }>();
  const group = (k: string | null) => {
    const found = groups.get(k) ?? { cost: 0, runs: 0 };
    groups.set(k, found);
    return found;
  };
  for (const row of ROWS.filter(november)) group(key(row)).cost += row.cost;
  for (const row of firstOfRun.values()) if (november(row)) group(key(row)).runs += 1;
  // The fixture books no estimated cost (see the spend API's own test of estimates).
  return [...groups].map(([k, g]) => ({
    key: k,
    cost_usd: g.cost,
    runs: g.runs,
    estimated_usd: 0,
  }));
}

/** The run id a fixture row's `run` (r1, r2 …) is written with: the same in every test. */
export const runId = (run: string): string =>
  `00000000-0000-4000-8000-${run.slice(1).padStart(12, "0")}`;

function manifest(name: string, owner: string) {
  return validateManifest({
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title: name, owner },
    spec: {
      runtime: { type: "a2a", url: "https://agents.internal/x" },
      access: { view: ["user:*"] },
    },
  });
}

/** Writes the people, teams, agents and ledger rows; answers each person's user id. */
export async function seedSpendLedger(parts: {
  knex: Knex;
  authorizer: Authorizer;
  access: AccessPolicy;
  services: DirectoryServices;
}): Promise<Record<Person, string>> {
  const { knex, authorizer, services } = parts;
  await authorizer.write([
    { user: "user:ada@example.com", relation: "admin", object: PLATFORM },
    { user: "user:tess@example.com", relation: "admin", object: "team:support" },
    { user: "user:carol@example.com", relation: "member", object: "team:support" },
    { user: "user:rita@example.com", relation: "admin", object: "team:research" },
  ]);
  const users = new UserDirectory(knex);
  const ids = {} as Record<Person, string>;
  for (const who of PEOPLE) ids[who] = (await users.ensureUser(email(who))).id;
  const agentIds: Record<string, string> = {};
  for (const [name, owner] of Object.entries(AGENT_OWNERS)) {
    await services.registry.apply(manifest(name, owner), { actor: "test" });
    agentIds[name] = (await knex("agents").where({ name }).first("id")).id;
  }
  const teamIds = Object.fromEntries(
    ((await knex("teams").select("id", "slug")) as { id: string; slug: string }[]).map((t) => [
      t.slug,
      t.id,
    ]),
  );
  await knex("ledger").insert(
    ROWS.map((row, i) => ({
      occurred_at: `${row.day}T${String(i % 24).padStart(2, "0")}:30:00Z`,
      source: row.runtime ? "runtime" : "proxy",
      agent_id: row.agent ? agentIds[row.agent] : null,
      runtime: row.runtime,
      model: row.model,
      user_id: ids[row.who],
      team_id: row.team ? teamIds[row.team] : null,
      run_id: row.run ? runId(row.run) : null,
      cost_usd: row.cost,
      dedupe_key: `spend-fixture-${i}`,
    })),
  );
  return ids;
}

/** run, agent, status, seconds from start to end, error code. */
export const RUNS = [
  ["r1", "triage", "succeeded", 10, null],
  ["r2", "triage", "succeeded", 20, null],
  ["r3", "triage", "failed", 30, "timeout"],
  ["r7", "triage", "failed", 40, "runtime_error"],
  ["r10", "triage", "cancelled", 2, null],
  ["r11", "triage", "running", null, null],
  ["r4", "invoices", "succeeded", 5, null],
  ["r5", "invoices", "failed", 15, "runtime_error"],
  ["r6", "adas-bot", "succeeded", 1, null],
  // October: outside the range.
  ["r8", "triage", "failed", 99, "timeout"],
] as const;

/**
 * Writes the runs of `RUNS` (as carol's, each in its own session), as the engine leaves them.
 * `finishedOnly` leaves out the running one, which a serving process would pick up and run.
 */
export async function seedRuns(
  knex: Knex,
  ids: Record<Person, string>,
  options: { finishedOnly?: boolean } = {},
): Promise<void> {
  for (const [run, agent, status, seconds, code] of RUNS) {
    if (options.finishedOnly && status === "running") continue;
    const { id: agentId } = await knex("agents").where({ name: agent }).first("id");
    const [session] = await knex("sessions")
      .insert({ agent_id: agentId, user_id: ids.carol, surface: "api", conversation_key: run })
      .returning("id");
    const created = new Date(run === "r8" ? "2026-10-20T10:00:00Z" : "2026-11-10T10:00:00Z");
    await knex("runs").insert({
      id: runId(run),
      session_id: session.id,
      agent_id: agentId,
      user_id: ids.carol,
      status,
      input: "hi",
      error: code ? { code, message: "it went wrong" } : null,
      created_at: created,
      started_at: created,
      finished_at: seconds === null ? null : new Date(created.getTime() + seconds * 1000),
    });
  }
}
