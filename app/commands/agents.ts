import { stringify } from "yaml";
import {
  type AgentState,
  type ApplyResult,
  formatProblem,
  loadManifests,
} from "../../directory/index.js";
import { runtimeSettingsCheck } from "../runs.js";
import { CLI_ACTOR, type CliContext, formatTable } from "./cli-context.js";

/**
 * `switchboard agents …`: register agents from manifests and manage them as the operator.
 * Each resolves to the process's exit status.
 */

/** The manifests under the paths (from the caller's folder), with their problems, runtime settings included. */
function loadChecked(ctx: CliContext, paths: string[]) {
  return loadManifests(paths, { checkRuntime: runtimeSettingsCheck(ctx.config), cwd: ctx.cwd });
}

const cli = { actor: CLI_ACTOR };

/** Prints each problem as `file:line: field: message`; resolves to 1 if there were any. */
export async function agentsValidate(ctx: CliContext, paths: string[]): Promise<number> {
  const { print, printError } = ctx;
  const { manifests, problems } = loadChecked(ctx, paths);
  for (const problem of problems) printError(formatProblem(problem));
  if (problems.length > 0) {
    printError(`${problems.length} problem${problems.length === 1 ? "" : "s"} found.`);
    return 1;
  }
  print(`${manifests.length} manifest${manifests.length === 1 ? "" : "s"} valid.`);
  return 0;
}

/** `updated   triage (spec.access)`, then the access it grants (+) and removes (-). */
function describeResult(result: ApplyResult): string[] {
  const changes = result.changes.length > 0 ? ` (${result.changes.join(", ")})` : "";
  const access =
    result.outcome === "unchanged" && result.granted.length + result.revoked.length > 0
      ? " (access repaired)"
      : "";
  const lines = [`${result.outcome.padEnd(9)} ${result.name}${changes}${access}`];
  if (result.outcome !== "created") {
    for (const t of result.granted) lines.push(`  + ${t.relation} ${t.user}`);
    for (const t of result.revoked) lines.push(`  - ${t.relation} ${t.user}`);
  }
  return lines;
}

/** Applies every manifest under the paths; nothing is applied if any of them is invalid. */
export async function agentsApply(
  ctx: CliContext,
  paths: string[],
  options: { prune: boolean; dryRun: boolean },
): Promise<number> {
  const { print, printError } = ctx;
  const { manifests, problems } = loadChecked(ctx, paths);
  if (problems.length > 0) {
    for (const problem of problems) printError(formatProblem(problem));
    printError(`Nothing was applied: ${problems.length} problem(s) found.`);
    return 1;
  }
  if (options.prune && manifests.length === 0) {
    // Pruning against nothing would retire every agent: surely a wrong path.
    printError("No manifests found, so nothing was pruned; check the paths.");
    return 1;
  }
  const context = { ...cli, dryRun: options.dryRun };
  const counts = new Map<string, number>();
  const count = (outcome: string) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  await ctx.withDirectory(async ({ registry }) => {
    for (const entry of manifests) {
      const result = await registry.apply(entry, context);
      count(result.outcome);
      for (const line of describeResult(result)) print(line);
    }
    if (options.prune) {
      const named = new Set(manifests.map((entry) => entry.manifest.metadata.name));
      for (const name of await registry.catalog.liveNames()) {
        if (named.has(name)) continue;
        await registry.retire(name, context);
        count("retired");
        print(`${"retired".padEnd(9)} ${name}`);
      }
    }
  });
  const summary = ["created", "updated", "restored", "unchanged", "retired"]
    .filter((outcome) => counts.has(outcome))
    .map((outcome) => `${counts.get(outcome)} ${outcome}`)
    .join(", ");
  print(`${options.dryRun ? "Dry run, nothing changed: " : ""}${summary || "no manifests found"}.`);
  return 0;
}

export async function agentsList(
  ctx: CliContext,
  options: { search?: string | undefined },
): Promise<number> {
  const { print } = ctx;
  await ctx.withDirectory(async ({ registry }) => {
    const rows = [["NAME", "STATE", "LIFECYCLE", "RUNTIME", "OWNER", "TITLE"]];
    const filter = { q: options.search, states: ["enabled", "suspended", "disabled"] as const };
    for (let after: string | undefined; ; ) {
      const page = await registry.catalog.page(filter, { after, limit: 500 });
      for (const a of page)
        rows.push([a.name, a.state, a.lifecycle, a.runtimeType, a.owner, a.title]);
      if (page.length < 500) break;
      after = page.at(-1)?.name;
    }
    if (rows.length === 1)
      print("No agents yet. Register one with `switchboard agents apply FILE`.");
    else for (const line of formatTable(rows)) print(line);
  });
  return 0;
}

export async function agentsShow(ctx: CliContext, name: string): Promise<number> {
  const { print } = ctx;
  await ctx.withDirectory(async ({ registry }) => {
    const agent = await registry.require(name);
    print(`# state: ${agent.state}${agent.stateReason ? ` (${agent.stateReason})` : ""}`);
    if (agent.featured) print("# featured: offered in chat to everyone who may run it");
    print(`# updated: ${agent.updatedAt.toISOString()}`);
    print(stringify(agent.manifest).trimEnd());
  });
  return 0;
}

/** Features agents, or stops featuring them; prints one line per agent. */
export async function agentsSetFeatured(
  ctx: CliContext,
  names: string[],
  featured: boolean,
): Promise<number> {
  await ctx.withDirectory(async ({ registry }) => {
    for (const name of names) {
      await registry.setFeatured(name, featured, cli);
      ctx.print(`${featured ? "featured" : "unfeatured"} ${name}`);
    }
  });
  return 0;
}

export async function agentsSetState(
  ctx: CliContext,
  name: string,
  state: AgentState,
  reason: string | undefined,
): Promise<number> {
  await ctx.withDirectory(async ({ registry }) => {
    await registry.setState(name, state, reason, cli);
  });
  ctx.print(`${state.padEnd(9)} ${name}${reason ? `: ${reason}` : ""}`);
  return 0;
}
