import { UserDirectory } from "../../authz/index.js";
import { CLI_ACTOR, type CliContext, formatTable } from "./cli-context.js";

/** `switchboard keys …`: API keys for the REST API, made and revoked by the operator. */

/** Prints the new key alone on the last line, so scripts can take it with `tail -1`. */
export async function keysCreate(
  ctx: CliContext,
  options: { user: string; name?: string | undefined },
): Promise<number> {
  const { print } = ctx;
  await ctx.withDirectory(async ({ keys }, db) => {
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

export async function keysList(ctx: CliContext): Promise<number> {
  const { print } = ctx;
  await ctx.withDirectory(async ({ keys }) => {
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

export async function keysRevoke(ctx: CliContext, id: string): Promise<number> {
  await ctx.withDirectory(({ keys }) => keys.revoke(id, CLI_ACTOR));
  ctx.print(`revoked  ${id}`);
  return 0;
}
