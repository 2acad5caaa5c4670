import { resolve } from "node:path";
import {
  embeddedTarget,
  formatReport,
  formatTotals,
  loadConformanceFile,
  normalizeEmail,
  openFgaTarget,
  runConformance,
  totalsOf,
} from "../../authz/index.js";
import { echoInput, isSwitchboardError } from "../../core/index.js";
import { CLI_ACTOR, type CliContext } from "./cli-context.js";

/**
 * `switchboard authz …`: test the policy, and grant, revoke, check and list access by hand,
 * against whichever backend the configuration names (OpenFGA server or embedded).
 */

const SUBJECT_HINT =
  "USER is an email (ada@example.com) or a subject such as user:ada@example.com, team:platform#member or user:*";

/**
 * `ada@example.com` means `user:ada@example.com`; anything else with a colon is taken as
 * written. A person is named by email everywhere, so `bob` or `user:bob` is refused in words
 * rather than stored as a tuple no one will ever match.
 */
export function subjectFromArgument(argument: string): string {
  const person = argument.includes(":") ? /^user:(.*)$/.exec(argument)?.[1] : argument;
  if (person === undefined || person === "*") return argument;
  try {
    return `user:${normalizeEmail(person)}`;
  } catch (error) {
    if (!isSwitchboardError(error)) throw error;
    throw new Error(`"${echoInput(person)}" is not an email address. ${SUBJECT_HINT}.`);
  }
}

/** Runs conformance or `.fga.yaml` files; resolves to the number of failed assertions. */
export async function authzTest(ctx: CliContext, files: string[]): Promise<number> {
  const { config, print } = ctx;
  const target = config.OPENFGA_API_URL ? openFgaTarget(config.OPENFGA_API_URL) : embeddedTarget();
  const cases = [];
  for (const file of files) {
    const report = await runConformance(target, loadConformanceFile(resolve(ctx.cwd, file)));
    cases.push(...report.cases);
    print(formatReport(report));
  }
  const totals = totalsOf(cases);
  if (files.length > 1) print(formatTotals(totals));
  return totals.failed;
}

/**
 * Adds or removes one tuple. Making someone a member or admin of a team brings the team
 * into being if no manifest has named it yet (its row, and its tuples: platform admins reach
 * it, and under AGENT_REGISTRATION=team_members its members may register agents).
 */
export async function authzGrant(
  ctx: CliContext,
  change: "grant" | "revoke",
  args: { user: string; relation: string; object: string },
): Promise<number> {
  const tuple = {
    user: subjectFromArgument(args.user),
    relation: args.relation,
    object: args.object,
  };
  const agent = /^agent:(.+)$/.exec(tuple.object)?.[1];
  await ctx.withDirectory(async ({ registry }) => {
    try {
      await registry.changeAccess(change, tuple, { actor: CLI_ACTOR });
    } catch (error) {
      // The same refusal, with where to look on the command line.
      if (change === "grant" && agent !== undefined && !(await registry.find(agent)))
        throw new Error(
          `There is no agent called "${echoInput(agent)}". \`switchboard agents list\` shows the agents there are.`,
        );
      throw error;
    }
  });
  ctx.print(
    `${change === "grant" ? "granted" : "revoked"}: ${tuple.user} ${tuple.relation} ${tuple.object}`,
  );
  return 0;
}

/** Prints `allowed` or `denied`; resolves to 0 or 1 (the exit status) accordingly. */
export async function authzCheck(
  ctx: CliContext,
  args: { user: string; relation: string; object: string },
): Promise<number> {
  const user = subjectFromArgument(args.user);
  const allowed = await ctx.withAuthorizer((authorizer) =>
    authorizer.check({ user, relation: args.relation, object: args.object }, { fresh: true }),
  );
  ctx.print(allowed ? "allowed" : "denied");
  return allowed ? 0 : 1;
}

export async function authzList(
  ctx: CliContext,
  args: { user: string; relation: string; type: string },
): Promise<number> {
  const user = subjectFromArgument(args.user);
  const objects = await ctx.withAuthorizer((authorizer) =>
    authorizer.listObjects({ user, relation: args.relation, type: args.type }, { fresh: true }),
  );
  for (const object of objects.sort()) ctx.print(object);
  return 0;
}
