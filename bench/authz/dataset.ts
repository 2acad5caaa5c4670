/**
 * A realistic, reproducible Switchboard tuple set for the authz benchmark: users in one to
 * three teams (some as admins), agents owned by teams, shared with a few other teams, some
 * open to everyone (`user:*`), some granted to individual users, and platform admins.
 */

import type { TupleKey } from "../../authz/types.js";

export interface DatasetShape {
  users: number;
  teams: number;
  agents: number;
  platformAdmins: number;
}

export interface Dataset {
  tuples: TupleKey[];
  users: string[];
  agents: string[];
  platformAdmins: string[];
  /** Members of each agent's owning team, to draw checks that are allowed. */
  ownerTeamMembers: Map<string, string[]>;
}

export function buildDataset(shape: DatasetShape, seed = 42): Dataset {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const tuples: TupleKey[] = [];
  const grant = (user: string, relation: string, object: string) =>
    tuples.push({ user, relation, object });

  const users = range(shape.users, (i) => `user:u${i}`);
  const teams = range(shape.teams, (i) => `team:t${i}`);
  const agents = range(shape.agents, (i) => `agent:a${i}`);
  const platformAdmins = users.slice(0, shape.platformAdmins);
  for (const admin of platformAdmins) grant(admin, "admin", "platform:switchboard");

  const membersOf = new Map<string, string[]>(teams.map((team) => [team, []]));
  for (const team of teams) grant("platform:switchboard", "platform", team);
  for (const user of users) {
    const joined = new Set<string>();
    for (let n = between(1, 3); joined.size < n; ) joined.add(pick(teams));
    for (const team of joined) {
      // About one membership in fifteen is an admin one: a team of ~50 has 2–4 admins.
      grant(user, random() < 1 / 15 ? "admin" : "member", team);
      membersOf.get(team)?.push(user);
    }
  }

  const ownerTeamMembers = new Map<string, string[]>();
  for (const agent of agents) {
    const ownerTeam = pick(teams);
    grant("platform:switchboard", "platform", agent);
    grant(ownerTeam, "owner_team", agent);
    ownerTeamMembers.set(agent, membersOf.get(ownerTeam) ?? []);
    for (let n = between(0, 3); n > 0; n--) {
      grant(`${pick(teams)}#member`, pick(["viewer", "runner", "runner", "editor"]), agent);
    }
    const openness = random();
    if (openness < 0.05) grant("user:*", "runner", agent);
    else if (openness < 0.1) grant("user:*", "viewer", agent);
    for (let n = between(0, 3); n > 0; n--) {
      grant(pick(users), pick(["viewer", "runner", "editor", "owner"]), agent);
    }
  }
  return { tuples, users, agents, platformAdmins, ownerTeamMembers };
}

/** A small, fast, seedable PRNG, so every run measures the same data. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function range<T>(count: number, make: (index: number) => T): T[] {
  return Array.from({ length: count }, (_, index) => make(index));
}
