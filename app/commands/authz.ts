import {
  embeddedTarget,
  formatReport,
  formatTotals,
  loadConformanceFile,
  openFgaTarget,
  runConformance,
  totalsOf,
} from "../../authz/index.js";
import { Teams } from "../../directory/index.js";
import { AuditLog } from "../../governance/index.js";
import type { Config } from "../config/index.js";
import { withAuthorizer } from "./cli-context.js";

/**
 * `switchboard authz …`: test the policy, and grant, revoke, check and list access by hand,
 * against whichever backend the configuration names (OpenFGA server or embedded).
 */

type Print = (line: string) => void;

/** `ada@example.com` means `user:ada@example.com`; anything with a colon is taken as written. */
export function subjectFromArgument(argument: string): string {
  return argument.includes(":") ? argument : `user:${argument.trim().toLowerCase()}`;
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
  const team = /^team:([^#]+)$/.exec(tuple.object)?.[1];
  const joinsTeam = change === "grant" && team && ["member", "admin"].includes(tuple.relation);
  await withAuthorizer(config, async (authorizer, db) => {
    if (change === "grant") await authorizer.write([tuple]);
    else await authorizer.write([], [tuple]);
    if (joinsTeam) await new Teams(db.knex, authorizer, config.AGENT_REGISTRATION).ensure([team]);
    await new AuditLog(db.knex).record({
      actor: "system:cli",
      action: change === "grant" ? "authz.granted" : "authz.revoked",
      targetType: tuple.object.split(":")[0],
      targetId: tuple.object,
      details: { ...tuple },
    });
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
