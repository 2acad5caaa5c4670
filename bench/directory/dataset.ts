/**
 * The directory bench's data, reproducible from a seed: 10,000 agents owned by 100 teams,
 * each shared with one to three teams, and one person, the bench user, who may view exactly
 * 2,000 of them (every fifth agent by name, so the agents they may view are spread through
 * the whole catalog, the hardest case for paging). Half of those they reach as a member of a
 * team the agent is shared with, half by a grant to them alone; nothing is open to everyone.
 */

import type { TupleKey } from "../../authz/index.js";
import { type AgentManifest, validateManifest } from "../../directory/index.js";
import { accessTuplesFor, teamsNamedIn } from "../../directory/registry/index.js";
import { mulberry32 } from "../authz/dataset.js";

export const BENCH_USER = "bench@example.com";
/** A word in about one agent description in ten: the search term. */
export const SEARCH_TERM = "invoices";
/** A tag on about one agent in six: the facet filter. */
export const FACET_TAG = "finance";

const TEAMS = 100;
const VIEWERS_TEAM = "bench-viewers";
const TAGS = ["finance", "support", "sales", "hr", "legal", "security"];
const MORE_TAGS = ["internal", "beta", "slack", "reports", "search", "docs", "ops", "data"];
const RUNTIMES = ["http", "a2a", "n8n", "claude-managed-agents", "demo"];
const LIFECYCLES = ["experimental", "production", "production", "deprecated"] as const;
const TOPICS = [
  "contracts",
  "tickets",
  "onboarding",
  "releases",
  "forecasts",
  "incidents",
  "expenses",
  "campaigns",
  "audits",
];

export interface BenchAgent {
  manifest: AgentManifest;
  digest: string;
}

export interface BenchDataset {
  agents: BenchAgent[];
  /** Every tuple the registry would have written for these agents, plus team memberships. */
  tuples: TupleKey[];
  teams: string[];
  /** How many agents the bench user may view, by construction. */
  visibleToUser: number;
}

/**
 * `runnable`: the bench user may also run the agents they may view (the MCP bench lists
 * them as tools); otherwise they only view them.
 */
export function buildDirectoryDataset(
  count = 10_000,
  seed = 7,
  options: { runnable?: boolean } = {},
): BenchDataset {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const teams = Array.from({ length: TEAMS }, (_, i) => `t${String(i).padStart(3, "0")}`);
  const agents: BenchAgent[] = [];
  const tuples: TupleKey[] = [];
  let visibleToUser = 0;
  for (let i = 0; i < count; i++) {
    const name = `agent-${String(i).padStart(5, "0")}`;
    const topic = pick(TOPICS);
    const tags = [...new Set([pick(TAGS), pick(MORE_TAGS)])];
    const view = [`team:${pick(teams)}`];
    if (random() < 0.5) view.push(`team:${pick(teams)}`);
    const run = [`team:${pick(teams)}`];
    if (i % 5 === 0) {
      const grantee = i % 10 === 0 ? `team:${VIEWERS_TEAM}` : `user:${BENCH_USER}`;
      view.push(grantee);
      if (options.runnable) run.push(grantee);
      visibleToUser++;
    }
    const runtime = pick(RUNTIMES);
    const entry = validateManifest({
      apiVersion: "switchboard/v1",
      kind: "Agent",
      metadata: {
        name,
        title: `${topic[0]?.toUpperCase()}${topic.slice(1)} assistant ${i}`,
        description: `Answers questions about ${topic}${random() < 0.1 ? ` and ${SEARCH_TERM}` : ""}, drafts summaries and files follow-ups for the team.`,
        owner: `team:${pick(teams)}`,
        tags,
        lifecycle: pick(LIFECYCLES),
      },
      spec: {
        runtime:
          runtime === "demo"
            ? { type: "demo" }
            : { type: runtime, url: `https://agents.example.com/${name}` },
        skills: [
          {
            name: "answer",
            description: `Answers about ${topic}.`,
            examples: [`What changed in ${topic}?`],
          },
        ],
        access: { view, run },
      },
    });
    agents.push({ manifest: entry.manifest, digest: entry.digest });
    tuples.push(...accessTuplesFor(entry.manifest));
  }
  const named = new Set(agents.flatMap((agent) => teamsNamedIn(agent.manifest)));
  for (const slug of named)
    tuples.push({ user: "platform:switchboard", relation: "platform", object: `team:${slug}` });
  // The bench user is in one team only: the one some agents are shared with for them.
  tuples.push({ user: `user:${BENCH_USER}`, relation: "member", object: `team:${VIEWERS_TEAM}` });
  // Other people, so teams are not empty: two members each.
  for (const slug of teams) {
    for (let n = 0; n < 2; n++)
      tuples.push({
        user: `user:${slug}-${n}@example.com`,
        relation: "member",
        object: `team:${slug}`,
      });
  }
  return { agents, tuples, teams: [...named], visibleToUser };
}
