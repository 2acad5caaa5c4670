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
import { AgentRegistry } from "../../directory/index.js";
import { AuditLog } from "../../governance/index.js";
import type { Config } from "../config/index.js";
import { withAuthorizer } from "./cli-context.js";

/**
 * `switchboard authz …`: test the policy, and grant, revoke, check and list access by hand,
 * against whichever backend the configuration names (OpenFGA server or embedded).
 */

type Print = (line: string) => void;

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
export async function authzTest(
  config: Config,
  files: string[],
  print: Print = console.log,
): Promise<number> {
  const target = config.OPENFGA_API_URL ? openFgaTarget(config.OPENFGA_API_URL) : embeddedTarget();
  const cases = [];
  for (const file of files) {
    const report = await runConformance(target, loadConformanceFile(file));
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
  config: Config,
  change: "grant" | "revoke",
  args: { user: string; relation: string; object: string },
  print: Print = console.log,
): Promise<void> {
  const tuple = {
    user: subjectFromArgument(args.user),
    relation: args.relation,
    object: args.object,
  };
  const agent = /^agent:(.+)$/.exec(tuple.object)?.[1];
  await withAuthorizer(config, async (authorizer, db) => {
    const registry = new AgentRegistry(db.knex, authorizer, new AuditLog(db.knex), {
      registration: config.AGENT_REGISTRATION,
    });
    try {
      await registry.changeAccess(change, tuple, { actor: "system:cli" });
    } catch (error) {
      // The same refusal, with where to look on the command line.
      if (change === "grant" && agent !== undefined && !(await registry.find(agent)))
        throw new Error(
          `There is no agent called "${echoInput(agent)}". \`switchboard agents list\` shows the agents there are.`,
        );
      throw error;
    }
  });
  print(
    `${change === "grant" ? "granted" : "revoked"}: ${tuple.user} ${tuple.relation} ${tuple.object}`,
  );
}

/** Prints `allowed` or `denied`; resolves to the answer. */
export async function authzCheck(
  config: Config,
  args: { user: string; relation: string; object: string },
  print: Print = console.log,
): Promise<boolean> {
  const user = subjectFromArgument(args.user);
  const allowed = await withAuthorizer(config, (authorizer) =>
    authorizer.check({ user, relation: args.relation, object: args.object }, { fresh: true }),
  );
  print(allowed ? "allowed" : "denied");
  return allowed;
}

export async function authzList(
  config: Config,
  args: { user: string; relation: string; type: string },
  print: Print = console.log,
): Promise<void> {
  const user = subjectFromArgument(args.user);
  const objects = await withAuthorizer(config, (authorizer) =>
    authorizer.listObjects({ user, relation: args.relation, type: args.type }, { fresh: true }),
  );
  for (const object of objects.sort()) print(object);
}
