import { UserDirectory } from "../../authz/index.js";
import type { Config } from "../config/index.js";
import { CLI_ACTOR, formatTable, withDirectory } from "./cli-context.js";

/** `switchboard keys …`: API keys for the REST API, made and revoked by the operator. */

type Print = (line: string) => void;

/** Prints the new key alone on the last line, so scripts can take it with `tail -1`. */
export async function keysCreate(
  config: Config,
  options: { user: string; name?: string | undefined },
  print: Print = console.log,
): Promise<number> {
  await withDirectory(config, async ({ keys }, db) => {
    const user = await new UserDirectory(db.knex).ensureUser(options.user);
    const created = await keys.create(
      { userId: user.id, userEmail: user.email, name: options.name },
      CLI_ACTOR,
    );
    print(`Created API key ${created.id} (${created.prefix}…) acting as ${user.email}.`);
    print("It is shown only now; store it somewhere safe:");
    print(created.key);
  });
  return 0;
}

export async function keysList(config: Config, print: Print = console.log): Promise<number> {
  await withDirectory(config, async ({ keys }) => {
    const list = await keys.list();
    if (list.length === 0) {
      print("No API keys yet. Make one with `switchboard keys create --user EMAIL`.");
      return;
    }
    const rows = [["ID", "PREFIX", "USER", "NAME", "CREATED", "LAST USED", "STATUS"]];
    for (const key of list) {
      rows.push([
        key.id,
        key.prefix,
        key.userEmail ?? "-",
        key.name ?? "-",
        key.createdAt.toISOString().slice(0, 16),
        key.lastUsedAt?.toISOString().slice(0, 16) ?? "never",
        key.revokedAt ? "revoked" : "active",
      ]);
    }
    for (const line of formatTable(rows)) print(line);
  });
  return 0;
}

export async function keysRevoke(config: Config, id: string, print: Print = console.log) {
  await withDirectory(config, ({ keys }) => keys.revoke(id, CLI_ACTOR));
  print(`revoked  ${id}`);
  return 0;
}
