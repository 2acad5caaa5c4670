import { CLI_ACTOR, type CliContext, formatTable } from "./cli-context.js";

/** `switchboard sessions …`: the directory site's signed-in sessions, listed and ended by the operator. */

export async function sessionsList(
  ctx: CliContext,
  options: { user?: string | undefined },
): Promise<number> {
  const { print } = ctx;
  await ctx.withDirectory(async ({ siteSessions }) => {
    const list = await siteSessions.list({ limit: 1000, userEmail: options.user });
    if (list.length === 0) {
      print(options.user ? `${options.user} is not signed in anywhere.` : "No one is signed in.");
      return;
    }
    const rows = [["ID", "USER", "SIGNED IN WITH", "SINCE", "LAST SEEN", "ENDS", "FROM"]];
    for (const session of list) {
      rows.push([
        session.id,
        session.userEmail,
        session.method,
        session.createdAt.toISOString().slice(0, 16),
        session.lastSeenAt.toISOString().slice(0, 16),
        session.expiresAt.toISOString().slice(0, 16),
        session.address ?? "-",
      ]);
    }
    for (const line of formatTable(rows)) print(line);
  });
  return 0;
}

/** Ends one session by id, or every session of `--user`; the browser is signed out at its next request. */
export async function sessionsRevoke(
  ctx: CliContext,
  options: { id?: string | undefined; user?: string | undefined },
): Promise<number> {
  const { print } = ctx;
  if (!options.id === !options.user) {
    ctx.printError(
      "switchboard sessions revoke: give a session id (from `sessions list`) or --user EMAIL, not both.",
    );
    return 2;
  }
  await ctx.withDirectory(async ({ siteSessions }) => {
    if (options.id) {
      const ended = await siteSessions.revoke(options.id, CLI_ACTOR);
      print(`revoked  ${ended.id}  (${ended.userEmail})`);
    } else {
      const count = await siteSessions.revokeUser(options.user as string, CLI_ACTOR);
      print(`revoked  ${count} ${count === 1 ? "session" : "sessions"} of ${options.user}`);
    }
  });
  return 0;
}
