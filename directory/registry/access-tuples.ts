import type { Authorizer, TupleKey } from "../../authz/index.js";
import { agentObject, PLATFORM } from "../../authz/index.js";
import type { AgentManifest } from "../manifest/index.js";

/**
 * The OpenFGA tuples a manifest stands for (see the header of authz/model.fga). The manifest
 * is the source of truth for these relations: applying it adds what is missing and removes
 * what it no longer says. `editor` is left alone, so edit rights granted by hand with
 * `switchboard authz grant` survive a re-apply.
 */
export const MANAGED_RELATIONS = new Set(["platform", "owner_team", "owner", "viewer", "runner"]);

/** `team:support` in a manifest means the team's members: `team:support#member`. */
function grantSubject(subject: string): string {
  return subject.startsWith("team:") ? `${subject}#member` : subject;
}

export function accessTuplesFor(manifest: AgentManifest): TupleKey[] {
  const object = agentObject(manifest.metadata.name);
  const { owner } = manifest.metadata;
  const tuples: TupleKey[] = [{ user: PLATFORM, relation: "platform", object }];
  if (owner.startsWith("team:")) tuples.push({ user: owner, relation: "owner_team", object });
  else tuples.push({ user: owner, relation: "owner", object });
  for (const subject of manifest.spec.access.view) {
    tuples.push({ user: grantSubject(subject), relation: "viewer", object });
  }
  for (const subject of manifest.spec.access.run) {
    tuples.push({ user: grantSubject(subject), relation: "runner", object });
  }
  return dedupe(tuples);
}

/** Teams a manifest names (as owner or in its access lists), by slug. */
export function teamsNamedIn(manifest: AgentManifest): string[] {
  const subjects = [
    manifest.metadata.owner,
    ...manifest.spec.access.view,
    ...manifest.spec.access.run,
  ];
  return [...new Set(subjects.filter((s) => s.startsWith("team:")).map((s) => s.slice(5)))];
}

const keyOf = (t: TupleKey) => `${t.object}#${t.relation}@${t.user}`;

function dedupe(tuples: TupleKey[]): TupleKey[] {
  return [...new Map(tuples.map((t) => [keyOf(t), t])).values()];
}

/** The tuples of `tuples` that are not in `taken`. */
export function without(tuples: readonly TupleKey[], taken: readonly TupleKey[]): TupleKey[] {
  const drop = new Set(taken.map(keyOf));
  return tuples.filter((t) => !drop.has(keyOf(t)));
}

/** What to write and delete to turn the stored managed tuples into the wanted ones. */
export function diffTuples(
  stored: readonly TupleKey[],
  wanted: readonly TupleKey[],
): { writes: TupleKey[]; deletes: TupleKey[] } {
  const managed = stored.filter((t) => MANAGED_RELATIONS.has(t.relation));
  const have = new Set(managed.map(keyOf));
  const want = new Set(wanted.map(keyOf));
  return {
    writes: wanted.filter((t) => !have.has(keyOf(t))),
    deletes: managed.filter((t) => !want.has(keyOf(t))),
  };
}

/** Where the model lets an agent be a tuple's user (e.g. `secret:S#user_agent@agent:A`). */
export interface AgentUserPlace {
  objectType: string;
  userset?: string | undefined;
}

/**
 * Every stored tuple that names the agent: its access (the agent as object) and what was
 * granted to it (the agent as user, read type by type as an OpenFGA server requires).
 * Retiring removes them all, so a new agent that takes the name inherits none of them.
 */
export async function tuplesNaming(
  authorizer: Authorizer,
  name: string,
  places: readonly AgentUserPlace[],
): Promise<TupleKey[]> {
  const object = agentObject(name);
  const reads = await Promise.all([
    authorizer.read({ object }),
    ...places.map((place) =>
      authorizer.read({
        user: place.userset ? `${object}#${place.userset}` : object,
        object: `${place.objectType}:`,
      }),
    ),
  ]);
  return dedupe(reads.flat());
}
